"""Thin Celery tasks: take ids, load, call one service.

No per-message beat entries: one periodic ``tick`` claims due deliveries and enqueues a
``deliver`` per row (urgent ones on the urgent queue).
"""

from __future__ import annotations

import logging

from celery import Celery, current_app, shared_task
from django.conf import settings
from django.core.mail import send_mail

from campaigns.services.ticks import _tick_started

logger = logging.getLogger(__name__)


def dispatch_claimed(claimed: list[tuple[int, str, bool]], *, app: Celery | None = None) -> int:
    """Enqueue one deliver task per claimed row. A row whose task cannot be enqueued (the broker is
    down) goes straight back to pending, so the next tick retries it: nothing is stuck in sending."""
    from campaigns.services.publishing import delivery_unclaim

    sender = app or current_app
    sent = 0
    for delivery_id, token, urgent in claimed:
        try:
            sender.send_task("campaigns.deliver_urgent" if urgent else "campaigns.deliver",
                             kwargs={"delivery_id": delivery_id, "token": token},
                             queue="urgent" if urgent else "default", retry=False)
            sent += 1
        except Exception:  # noqa: BLE001 - broker down: put the row back for the next tick
            logger.warning("Broker unavailable; delivery %s goes back to pending.", delivery_id)
            delivery_unclaim(delivery_id=delivery_id, token=token)
    return sent


@shared_task(name="campaigns.tick", ignore_result=True)
def tick() -> int:
    from campaigns.services.publishing import deliveries_claim_due

    _tick_started(urgent=False)
    return dispatch_claimed(deliveries_claim_due())


@shared_task(name="campaigns.tick_urgent", ignore_result=True)
def tick_urgent() -> int:
    from campaigns.services.publishing import deliveries_claim_due

    _tick_started(urgent=True)
    return dispatch_claimed(deliveries_claim_due(urgent_only=True))


@shared_task(name="campaigns.deliver", ignore_result=True, acks_late=True)
def deliver(*, delivery_id: int, token: str) -> str:
    from campaigns.services.sending import delivery_send

    return delivery_send(delivery_id=delivery_id, token=token)


@shared_task(name="campaigns.deliver_urgent", ignore_result=True, acks_late=True)
def deliver_urgent(*, delivery_id: int, token: str) -> str:
    from campaigns.services.sending import delivery_send

    return delivery_send(delivery_id=delivery_id, token=token)


@shared_task(name="campaigns.reap", ignore_result=True)
def reap() -> dict[str, int]:
    from campaigns.services.publishing import deliveries_reap_stale

    return deliveries_reap_stale()


@shared_task(name="campaigns.take_down", ignore_result=True, acks_late=True)
def take_down(*, delivery_id: int) -> None:
    from campaigns.services.sending import delivery_take_down

    delivery_take_down(delivery_id=delivery_id)


@shared_task(name="campaigns.check_channels", ignore_result=True)
def check_channels() -> int:
    from campaigns.services.health import channels_check_health

    return channels_check_health()


@shared_task(name="campaigns.fetch_stats", ignore_result=True)
def fetch_stats() -> dict[str, int]:
    from campaigns.services.stats import deliveries_fetch_stats

    return deliveries_fetch_stats()


@shared_task(name="campaigns.email_alert", ignore_result=True)
def email_alert(*, user_ids: list[int], subject: str, text: str, url: str) -> None:
    from accounts.models import User

    emails = list(User.objects.filter(pk__in=user_ids, is_active=True).values_list("email", flat=True))
    if emails:
        send_mail(subject, f"{text}\n\n{settings.ENGAGE_SITE_URL}{url}", None, emails, fail_silently=False)
