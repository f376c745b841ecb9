"""Message pages: list, editor (with live checker and per-channel preview), detail, review queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from accounts.policies import policy_for
from campaigns import publishing, selectors, version_diff
from campaigns.forms import (
    CommentForm,
    MediaForm,
    MessageForm,
    ScheduleForm,
    SendNowForm,
    VariantForm,
    WithdrawForm,
    hashtag_names,
)
from campaigns.models import (
    Campaign,
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    MessageStatus,
    PlaybookTemplate,
    Segment,
)
from campaigns.previews import counter_words, editor_previews, message_previews
from campaigns.publishing.reconcile import can_be_asked
from campaigns.services import coverage, workflow
from campaigns.services import messages as message_services
from campaigns.services.playbooks import playbook_fill
from campaigns.views import forbidden
from core.ids import parse_id
from core.web import run_service


def _message(request: HttpRequest, pk: int) -> Message:
    message = selectors.message_detail(request.user, pk)
    if message is None:
        raise Http404("No such message.")
    return message


def _form_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "campaigns": list(policy_for(Campaign).queryset(user, "draft", selectors.campaigns_for(user))
                          .filter(archived=False)),
        "channels": list(policy_for(Channel).queryset(user, "draft", selectors.channels_for(user))
                         .filter(is_active=True)),
        "segments": list(policy_for(Segment).queryset(user, "draft", selectors.segments_for(user))),
    }


def _editor_context(form: MessageForm, ctx: dict[str, Any], *, message: Message | None = None) -> dict[str, Any]:
    """The editor's previews of what the form holds now (every channel of the team, the ticked
    ones shown), and what its script needs: channel kinds, the events' hashtags, the counters' words."""
    def value(name: str) -> Any:
        return form[name].value() if form.is_bound else form.initial.get(name, form.fields[name].initial)

    selected = {int(v) for v in (value("channels") or []) if str(v).isdigit()}
    tags = hashtag_names(str(value("hashtags") or ""))
    preview = editor_previews(body=str(value("body") or ""), title=str(value("title") or ""),
                              language=str(value("language") or "en"), hashtags=tags, channels=ctx["channels"],
                              selected=sorted(selected), message=message)
    return {
        "previews": [preview],
        "channel_kinds": form.channel_kinds,
        "event_hashtags": {c.pk: list(c.event.hashtags or []) for c in ctx["campaigns"] if c.event_id},
        "counter_words": counter_words(),
        "rtl_languages": list(settings.LANGUAGES_BIDI),
    }


@login_required
@require_safe
def message_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.messages_for(request.user).order_by("-updated_at", "-id")
    status = request.GET.get("status", "")
    if status in MessageStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("mine"):
        qs = qs.filter(author=request.user)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "campaigns/message_list.html", {
        "page": page, "status": status, "statuses": MessageStatus.choices,
        "can_draft": policy_for(Message).allows_any(request.user, "draft"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def message_new(request: HttpRequest) -> HttpResponse:
    if not policy_for(Message).allows_any(request.user, "draft"):
        return forbidden(request, "Only officers and supervisors draft messages.")
    ctx = _form_context(request)
    initial: dict[str, Any] = {}
    # Ids in the query string prefill the form; one that is not an id (or not visible) is ignored.
    template: PlaybookTemplate | None = None
    if (playbook_id := parse_id(request.GET.get("playbook"))) is not None:
        template = selectors.playbooks_for(request.user).filter(pk=playbook_id).first()
    event = None
    if (event_id := parse_id(request.GET.get("event"))) is not None:
        event = selectors.events_for(request.user).filter(pk=event_id).first()
    if (campaign_id := parse_id(request.GET.get("campaign"))) is not None:
        initial["campaign"] = campaign_id
    elif event is not None:
        campaign = next((c for c in ctx["campaigns"] if c.event_id == event.pk), None)
        if campaign:
            initial["campaign"] = campaign.pk
    if template is not None:
        initial.update(body=playbook_fill(body=template.body, event=event), urgency=template.urgency,
                       language=template.language, title=template.title)
    if event is not None and event.hashtags:
        initial["hashtags"] = " ".join(f"#{t}" for t in event.hashtags)
    form = MessageForm(request.POST or None, initial=initial, **ctx)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign = next(c for c in ctx["campaigns"] if c.pk == data["campaign"])
        message = run_service(
            request, message_services.message_create, campaign=campaign, body=data["body"], title=data["title"],
            language=data["language"], urgency=data["urgency"], instructive=data["instructive"],
            channels=data["channels"], segments=data["segments"], hashtags=data["hashtags"], links=data["links"],
            success="Draft saved.",
        )
        if message is not None:
            return redirect("campaigns:message", pk=message.pk)
    return render(request, "campaigns/message_form.html", {"form": form, "template": template, "event": event,
                                                           **_editor_context(form, ctx), **ctx})


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    if not policy_for(Message).may(request.user, "draft", message):
        return forbidden(request, "Only officers and supervisors of this team edit its messages.")
    ctx = _form_context(request)
    initial = {
        "campaign": message.campaign_id, "title": message.title, "body": message.body, "language": message.language,
        "urgency": message.urgency, "instructive": message.instructive,
        "channels": [c.pk for c in message.channels.all()], "segments": [g.pk for g in message.segments.all()],
        "hashtags": " ".join(f"#{t}" for t in message.hashtags), "links": "\n".join(message.links),
        "expected_version": message.version,
    }
    form = MessageForm(request.POST or None, initial=initial, **ctx)
    form.fields["campaign"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = run_service(
            request, message_services.message_update, message=message, body=data["body"], title=data["title"],
            language=data["language"], urgency=data["urgency"], instructive=data["instructive"],
            channels=data["channels"], segments=data["segments"], hashtags=data["hashtags"], links=data["links"],
            expected_version=data.get("expected_version"), success="Changes saved.",
        )
        if updated is not None:
            if message.status in (MessageStatus.APPROVED, MessageStatus.SCHEDULED, MessageStatus.IN_REVIEW) and \
                    updated.status == MessageStatus.DRAFT:
                flash.warning(request, "The content changed, so it is a draft again and needs a new approval.")
            return redirect("campaigns:message", pk=message.pk)
    return render(request, "campaigns/message_form.html", {"form": form, "message": message,
                                                           **_editor_context(form, ctx, message=message), **ctx})


@login_required
@require_safe
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message(request, pk)
    history = selectors.message_history(message)
    versions = history["versions"]
    user = request.user
    return render(request, "campaigns/message_detail.html", {
        "message": message,
        "previews": message_previews(message),
        "findings": workflow.submission_findings(message),
        "plans": coverage.delivery_plan(message),
        "reach": coverage.recipient_plan(message),
        "coverage_blocking": coverage.coverage_blocks_submission(message),
        "history": history,
        "diffs": version_diff.version_diffs(versions),
        "since_approval": version_diff.changes_since_approval(message, versions),
        **_deliveries_context(message),
        "comment_form": CommentForm(),
        "schedule_form": ScheduleForm(),
        "send_now_form": SendNowForm(),
        "withdraw_form": WithdrawForm(),
        "variant_form": VariantForm(channels=list(message.channels.all())),
        "media_form": MediaForm(),
        "can": {
            "edit": policy_for(Message).may(user, "draft", message) and message.status in (
                MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED, MessageStatus.IN_REVIEW,
                MessageStatus.APPROVED, MessageStatus.SCHEDULED),
            "submit": policy_for(Message).may(user, "draft", message) and message.status in (
                MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED),
            "approve": message.status == MessageStatus.IN_REVIEW and (
                policy_for(Message).may(user, "approve", message)
                or permissions.can_emergency_self_approve(user, message)),
            "own_message": user.pk == message.author_id,
            "schedule": policy_for(Message).may(user, "draft", message) and message.status in (
                MessageStatus.APPROVED, MessageStatus.SCHEDULED),
            "withdraw": policy_for(Message).may(user, "supervise", message) and message.status in (
                MessageStatus.APPROVED, MessageStatus.SCHEDULED, MessageStatus.PUBLISHING, MessageStatus.PUBLISHED,
                MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED),
            "emergency_review": message.emergency_self_approved and message.emergency_reviewed_at is None
            and policy_for(Message).may(user, "review_emergency", message),
            "correct": policy_for(Message).may(user, "draft", message) and message.status in (
                MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.WITHDRAWN),
            "retry": policy_for(Message).may(user, "draft", message),
            "handled": policy_for(Message).may(user, "supervise", message),
        },
    })


def _stats_text(d: Delivery) -> str:
    """"120 views · 4 shares · 2 replies": what the platform told us about the post, if anything."""
    figures = [(d.stats_views, "view", "views"), (d.stats_shares, "share", "shares"),
               (d.stats_replies, "reply", "replies")]
    return " · ".join(f"{n:,} {one if n == 1 else many}" for n, one, many in figures if n is not None)


def _deliveries_context(message: Message) -> dict[str, Any]:
    """What the deliveries panel shows, and whether (and how often) the page should refresh it."""
    deliveries = list(selectors.deliveries_for(message))
    counts: dict[str, int] = {}
    now = timezone.now()
    for d in deliveries:
        counts[d.status] = counts.get(d.status, 0) + 1
        d.stats_text = _stats_text(d)
        d.delete_window_passed = publishing.delete_window_passed(d, now=now)
        d.can_be_asked = d.status == DeliveryStatus.UNCONFIRMED and can_be_asked(d.channel)
    waiting = [d for d in deliveries if d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
               and not d.needs_review]
    soon = timezone.now() + timedelta(minutes=15)
    busy = any(d.status == DeliveryStatus.SENDING or d.due_at is None or d.due_at <= soon for d in waiting)
    return {
        "deliveries": deliveries,
        # Posts withdrawing cannot delete (too old for the platform): the withdraw form names them.
        "too_old_to_delete": [d for d in deliveries if d.delete_window_passed],
        "delivery_counts": [{"label": label, "count": counts[value]}
                            for value, label in DeliveryStatus.choices if value in counts],
        "live": bool(waiting),
        # Every few seconds while something is about to go out; once a minute while it waits.
        "poll_seconds": 4 if busy else 60,
    }


@login_required
@require_safe
def message_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """The deliveries panel alone, for the message page to refresh itself while it publishes."""
    message = _message(request, pk)
    response = render(request, "campaigns/_deliveries.html", {
        "message": message, **_deliveries_context(message),
        "can": {"retry": policy_for(Message).may(request.user, "draft", message),
                "handled": policy_for(Message).may(request.user, "supervise", message)},
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def variant_delete(request: HttpRequest, pk: int, variant_id: int) -> HttpResponse:
    message = _message(request, pk)
    variant = message.variants.filter(pk=variant_id).first()
    if variant is None:
        raise Http404("No such variant.")
    run_service(request, message_services.variant_remove, variant=variant, success="Variant removed.")
    return redirect("campaigns:message", pk=pk)


@login_required
@require_safe
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A delivery's place: its row on its message's page (where the audit trail links to)."""
    delivery = policy_for(Delivery).queryset(request.user, "view").filter(pk=pk).only("pk", "message_id").first()
    if delivery is None:
        raise Http404("No such delivery.")
    return redirect(reverse("campaigns:message", kwargs={"pk": delivery.message_id}) + f"#delivery-{pk}")


@login_required
@require_POST
def delivery_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    delivery = policy_for(Delivery).queryset(request.user, "view").filter(pk=pk).select_related("message").first()
    if delivery is None:
        raise Http404("No such delivery.")
    if action == "retry":
        run_service(request, publishing.delivery_retry, delivery=delivery, success="Retrying.")
    elif action == "posted":
        run_service(request, publishing.delivery_resolve_unconfirmed, delivery=delivery, posted=True,
                    external_url=request.POST.get("external_url", ""), success="Marked as posted.")
    elif action == "not-posted":
        run_service(request, publishing.delivery_resolve_unconfirmed, delivery=delivery, posted=False,
                    success="It will be sent again.")
    elif action == "handled":
        run_service(request, publishing.delivery_mark_removed_by_hand, delivery=delivery,
                    success="Recorded: the post was removed by hand.")
        if request.POST.get("back") == "publishing":  # from the publishing page's problems list
            return redirect("campaigns:publishing")
    elif action in ("release", "skip"):
        run_service(request, publishing.delivery_release, delivery=delivery, send=action == "release",
                    success="Released." if action == "release" else "Skipped.")
        return redirect("campaigns:publishing")
    else:
        raise Http404("Unknown action.")
    return redirect(reverse("campaigns:message", kwargs={"pk": delivery.message_id}) + f"#delivery-{pk}")


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    if not policy_for(Message).allows_any(request.user, "supervise"):
        return forbidden(request, "Only supervisors review messages.")
    queue = list(selectors.review_queue(request.user))
    for m in queue:  # each message as each of its channels will show it (campaigns/_previews.html)
        m.previews = message_previews(m)
    return render(request, "campaigns/review.html", {
        "queue": queue,
        "emergencies": list(selectors.emergency_reviews_due(request.user)),
    })
