"""Thin Celery tasks of the campaigns app outside publishing: take ids, load, call one service.

The publishing tasks (tick, deliver, reap, take_down) are in :mod:`campaigns.publishing.tasks`.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


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
