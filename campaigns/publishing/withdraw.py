"""Withdrawal: stop what has not left, take down what was posted where the platform allows, and
record by hand what it would not let us delete."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import User
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.publishing.send import adapter_for
from campaigns.services.messages import lock_message
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.queue import enqueue_on_commit
from platforms.base import AdapterError


@transaction.atomic
def message_withdraw(*, actor: User, message: Message, reason: str = "", confirmation: str = "") -> Message:
    """Stop anything not yet sent; take down what was posted where the platform allows.

    A withdrawal needs a reason (400 without one), kept in the audit trail and the history with
    ``confirmation``: what the person confirmed (the page's sentence; "api" for an API call)."""
    message = lock_message(message.pk)
    if not permissions.can_view_team(actor, message.team_id):
        raise NotFound(gettext("No such message."))
    if not permissions.can_withdraw(actor, message):
        raise NotAllowed(gettext("Only a supervisor of this team can withdraw messages."))
    if message.status in (MessageStatus.DRAFT, MessageStatus.IN_REVIEW, MessageStatus.CHANGES_REQUESTED,
                          MessageStatus.WITHDRAWN):
        raise WrongState(gettext("A message that is %(status)s cannot be withdrawn.") % {
            "status": gettext(message.get_status_display()).lower()})  # noqa: INT001 - DESK_LABELS
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(gettext("Say why the message is withdrawn: the reason is kept in its history."),
                           code="reason_required", fields={"reason": ["This field may not be blank."]})
    now = timezone.now()
    stopped = Delivery.objects.filter(message=message).filter(
        Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, in_flight_since__isnull=True)
    ).update(status=DeliveryStatus.WITHDRAWN, claim_token="", last_error="Withdrawn before sending")
    to_take_down = list(Delivery.objects.filter(message=message, status=DeliveryStatus.SENT).values_list("id",
                                                                                                      flat=True))
    # A platform call under way is left alone (its worker records what the platform did). If the
    # post went out, it comes down like the others: a take-down once the call has surely ended (it
    # acts on a sent delivery only), at no cost to every send.
    in_flight = list(Delivery.objects.filter(message=message, status=DeliveryStatus.SENDING,
                                             in_flight_since__isnull=False).values_list("id", flat=True))
    message.status = MessageStatus.WITHDRAWN
    message.withdrawn_at = now
    message.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_record(actor=actor, verb="message.withdrawn", target=message,
                 summary={"reason": reason[:500], "confirmation": (confirmation or "")[:300], "stopped": stopped,
                          "to_take_down": len(to_take_down)})
    from campaigns.services.alerts import alert_withdrawn

    alert_withdrawn(actor=actor, message=message, reason=reason)
    for delivery_id in to_take_down:
        enqueue_on_commit("campaigns.take_down", delivery_id=delivery_id)
    for delivery_id in in_flight:
        enqueue_on_commit("campaigns.take_down", countdown=settings.CELERY_TASK_TIME_LIMIT + 60, delivery_id=delivery_id)
    return message


# How long a platform lets us delete a post through its API (absent: no limit we know of).
# Telegram: "A message can only be deleted if it was sent less than 48 hours ago" (Bot API
# 10.1, deleteMessage); docs/platforms.md.
DELETE_WINDOWS: dict[str, timedelta] = {"telegram": timedelta(hours=48)}


def delete_window_passed(delivery: Delivery, *, now: datetime | None = None) -> bool:
    """Whether ``delivery``'s post is too old for its platform to let us delete it."""
    window = DELETE_WINDOWS.get(delivery.channel.kind)
    if window is None or delivery.status != DeliveryStatus.SENT or delivery.sent_at is None:
        return False
    return delivery.sent_at <= (now or timezone.now()) - window


@transaction.atomic
def delivery_mark_removed_by_hand(*, actor: User, delivery: Delivery) -> Delivery:
    """A person removed a withdrawn message's post by hand (the platform would not let us):
    the delivery becomes withdrawn, and who said so is on the audit trail."""
    if not permissions.can_withdraw(actor, delivery.message):
        raise NotAllowed(gettext("Only a supervisor of this team can say a post was removed by hand."))
    # Who said so stays on the row as well as on the audit trail (the deliveries panel shows it).
    n = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT, manual_takedown=True).update(
        status=DeliveryStatus.WITHDRAWN, manual_takedown=False,
        last_error=f"Removed by hand: recorded by {actor.display_name} on {timezone.now():%d %b %Y %H:%M} UTC"[:500])
    if n != 1:
        raise WrongState(gettext("Only a post waiting to be removed by hand can be marked as handled."))
    audit_record(actor=actor, verb="delivery.removed_by_hand", target=delivery, team=delivery.message.team_id,
                 summary={"channel": delivery.channel_id, "external_id": delivery.external_id[:200]})
    delivery.refresh_from_db()
    return delivery


def delivery_taken_down(*, delivery_id: int, manual: bool, error: str = "") -> None:
    with transaction.atomic():
        if manual:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
                manual_takedown=True, last_error=error[:500] or "Delete this post by hand")
        else:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
                status=DeliveryStatus.WITHDRAWN, manual_takedown=False, last_error="")
        delivery = Delivery.objects.select_related("message").get(pk=delivery_id)
        audit_record(actor=None, verb="delivery.taken_down" if not manual else "delivery.manual_takedown",
                     target=delivery, team=delivery.message.team_id, summary={"error": error[:200]})


def take_downs_outstanding(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Posts of withdrawn messages that are still up with no take-down on its way: the take-down task
    was lost (a broker that restarted empty), or the post was found to have gone out after the
    withdrawal (a person said "it went out", or the platform answered a look-up). Once the withdrawal
    is older than the delayed take-down of a call then in flight (``message_withdraw``), each is due a
    take-down again; the reaper enqueues them (``campaigns.publishing.tasks.reap``). A post the
    platform would not let us delete waits for a person instead (``manual_takedown``)."""
    grace = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 180)
    cutoff = (now or timezone.now()) - grace
    return list(Delivery.objects.filter(status=DeliveryStatus.SENT, manual_takedown=False,
                                        message__status=MessageStatus.WITHDRAWN,
                                        message__withdrawn_at__lt=cutoff)
                .order_by("pk").values_list("pk", flat=True)[:limit])


def delivery_take_down(*, delivery_id: int) -> None:
    delivery = Delivery.objects.select_related("channel").filter(pk=delivery_id, status=DeliveryStatus.SENT).first()
    if delivery is None:
        return
    adapter = adapter_for(delivery.channel)
    if not adapter.supports_withdraw or not delivery.external_id:
        delivery_taken_down(delivery_id=delivery_id, manual=True,
                            error=f"{delivery.channel.get_kind_display()} cannot delete posts through its API.")
        return
    try:
        adapter.withdraw(delivery.external_id)
    except AdapterError as exc:
        delivery_taken_down(delivery_id=delivery_id, manual=True, error=f"Take-down failed: {exc}")
        return
    delivery_taken_down(delivery_id=delivery_id, manual=False)
