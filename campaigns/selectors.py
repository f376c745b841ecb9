"""Reads for the campaigns views and APIs. Another team's objects are simply not there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import (
    Approval,
    Campaign,
    Channel,
    Comment,
    Delivery,
    DeliveryStatus,
    Event,
    EventRevision,
    ListRecipient,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    PlaybookTemplate,
    PublishingPause,
    RumourVerdict,
    Segment,
    Variant,
)


def events_for(user: User) -> QuerySet[Event]:
    return policy_for(Event).queryset(user, "view").select_related("team")


def event_drafts_to_publish(user: User) -> list[Event]:
    """Events of the user's supervised teams whose public fields changed since the last publication."""
    return [e for e in policy_for(Event).queryset(user, "supervise").select_related("team", "published_revision")
            .annotate(latest_hash=Subquery(EventRevision.objects.filter(event=OuterRef("pk"))
                                           .order_by("-number").values("content_hash")[:1]))
            .order_by("-updated_at")
            if e.latest_hash and e.latest_hash != (e.published_revision.content_hash if e.published_revision_id
                                                   else None)]


def rumour_verdicts_to_review(user: User) -> dict[str, list[RumourVerdict]]:
    """Verdicts of the user's supervised teams waiting to be published, and emergency ones to review."""
    base = policy_for(RumourVerdict).queryset(user, "supervise").select_related(
        "rumour__event", "author", "published_by")
    return {
        "pending": list(base.filter(published_at__isnull=True, superseded_at__isnull=True).order_by("created_at")),
        "emergency": list(base.filter(emergency=True, emergency_reviewed_at__isnull=True).order_by("published_at")),
    }


def events_with_publication(user: User) -> QuerySet[Event]:
    """The user's events with their published revision and the working copy's latest revision hash."""
    latest = EventRevision.objects.filter(event=OuterRef("pk")).order_by("-number").values("content_hash")[:1]
    return events_for(user).select_related("published_revision").annotate(latest_hash=Subquery(latest))


def campaigns_for(user: User) -> QuerySet[Campaign]:
    return policy_for(Campaign).queryset(user, "view").select_related("team", "event")


def channels_for(user: User) -> QuerySet[Channel]:
    return policy_for(Channel).queryset(user, "view").select_related("team")


def segments_for(user: User) -> QuerySet[Segment]:
    return policy_for(Segment).queryset(user, "view").select_related("team").prefetch_related(
        "partners")


def messages_for(user: User) -> QuerySet[Message]:
    return (
        policy_for(Message).queryset(user, "view")
        .select_related("campaign", "campaign__event", "team", "author", "approved_by")
        .prefetch_related(
            "channels",
            "segments",
            Prefetch("variants", queryset=Variant.objects.select_related("segment").prefetch_related("channels")),
            Prefetch("media", queryset=MediaAsset.objects.order_by("position", "id")),
        )
    )


def message_detail(user: User, pk: int) -> Message | None:
    return messages_for(user).filter(pk=pk).first()


def review_queue(user: User) -> QuerySet[Message]:
    """In review, for the teams the user supervises: most urgent first, then oldest. ``was_approved``:
    an earlier version was approved (the message page shows what changed since)."""
    urgency_rank = Case(
        When(urgency="emergency", then=Value(0)), When(urgency="priority", then=Value(1)), default=Value(2),
        output_field=IntegerField(),
    )
    return (
        policy_for(Message).queryset(user, "supervise", messages_for(user))
        .filter(status=MessageStatus.IN_REVIEW)
        .annotate(urgency_rank=urgency_rank,
                  was_approved=Exists(Approval.objects.filter(message=OuterRef("pk"), version__lt=OuterRef("version"))))
        .order_by("urgency_rank", "submitted_at", "id")
    )


def emergency_reviews_due(user: User) -> QuerySet[Message]:
    return (policy_for(Message).queryset(user, "review_emergency", messages_for(user))
            .filter(emergency_self_approved=True, emergency_reviewed_at__isnull=True).order_by("approved_at"))


def message_history(message: Message) -> dict[str, Any]:
    from accounts.models import AuditEvent

    return {
        "versions": list(MessageVersion.objects.filter(message=message).select_related("created_by")),
        "comments": list(Comment.objects.filter(message=message).select_related("author")),
        "events": list(AuditEvent.objects.filter(target_type="campaigns.message", target_id=str(message.pk))
                       .order_by("at", "id")),
    }


def deliveries_for(message: Message) -> QuerySet[Delivery]:
    return (Delivery.objects.filter(message=message).select_related("channel", "variant", "variant__segment")
            .prefetch_related("attempt_log").order_by("channel__name", "variant_id", "id"))


def held_deliveries(user: User) -> QuerySet[Delivery]:
    return (policy_for(Delivery).queryset(user, "supervise").filter(status=DeliveryStatus.PENDING, needs_review=True)
            .select_related("message", "channel", "variant").order_by("due_at"))


def problem_deliveries(user: User) -> QuerySet[Delivery]:
    return (policy_for(Delivery).queryset(user, "view")
            .filter(Q(status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED]) | Q(manual_takedown=True))
            .select_related("message", "channel").order_by("-updated_at")[:100])


def scheduled_between(user: User, start: datetime, end: datetime, event: int | None = None,
                      channel: int | None = None, segment: int | None = None) -> QuerySet[Message]:
    """The calendar's messages; ``segment`` matches the message's audiences and its variants' audiences."""
    qs = (messages_for(user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
          .exclude(status=MessageStatus.WITHDRAWN).order_by("scheduled_at"))
    if event:
        qs = qs.filter(campaign__event_id=event)
    if channel:
        qs = qs.filter(pk__in=Message.channels.through.objects.filter(channel_id=channel).values("message_id"))
    if segment:
        qs = qs.filter(Q(pk__in=Message.segments.through.objects.filter(segment_id=segment).values("message_id"))
                       | Q(pk__in=Variant.objects.filter(segment_id=segment).values("message_id")))
    return qs


def playbooks_for(user: User, *, kind: str = "", phase: str = "") -> QuerySet[PlaybookTemplate]:
    qs = policy_for(PlaybookTemplate).queryset(user, "view", PlaybookTemplate.objects.filter(is_active=True))
    if kind:
        qs = qs.filter(Q(event_kind="") | Q(event_kind=kind))
    if phase:
        qs = qs.filter(Q(phase="") | Q(phase=phase))
    return qs.select_related("team").order_by("phase", "title")


def pauses_for(user: User) -> QuerySet[PublishingPause]:
    """The pauses in force that concern this user: platform-wide ones, and those of their teams and
    the teams above them. Another force's pauses (its names and reasons) are not shown; platform
    operators see every pause."""
    return (policy_for(PublishingPause).queryset(user, "view")
            .filter(resumed_at__isnull=True).select_related("team", "paused_by", "restore_report")
            .order_by("-paused_at", "-id"))


def pause_banner(user: User) -> dict[str, Any] | None:
    """The pause that concerns this user, for the banner on every page."""
    pause = pauses_for(user).first()
    if pause is None:
        return None
    return {"team": pause.team.name if pause.team_id else "", "reason": pause.reason,
            "by": pause.paused_by.display_name if pause.paused_by_id else "the system, after a restore",
            "at": pause.paused_at, "id": pause.pk}


def list_recipients_for(user: User) -> QuerySet[ListRecipient]:
    """The recipients of the list channels the user administers (addresses stay encrypted here)."""
    return (policy_for(ListRecipient).queryset(user, "administer")
            .select_related("channel").prefetch_related("segments"))


def list_channels_for(user: User) -> QuerySet[Channel]:
    """SMS and email channels the user administers: the lists they may manage."""
    return policy_for(Channel).queryset(user, "administer", channels_for(user)).filter(kind__in=["sms", "email"])
