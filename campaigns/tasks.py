"""Thin Celery tasks of the campaigns app outside publishing: take ids, load, call one service.

The publishing tasks (tick, deliver, reap, reconcile, take_down) are in :mod:`campaigns.publishing.tasks`.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="campaigns.check_channels", ignore_result=True)
def check_channels() -> int:
    from campaigns.services.health import channels_check_health

    return channels_check_health()


@shared_task(name="campaigns.check_channel", ignore_result=True)
def check_channel(*, channel_id: int) -> bool:
    from campaigns.services.health import channel_check_health

    return channel_check_health(channel_id=channel_id)


@shared_task(name="campaigns.fetch_stats", ignore_result=True)
def fetch_stats() -> dict[str, int]:
    from campaigns.services.stats import deliveries_fetch_stats

    return deliveries_fetch_stats()


@shared_task(name="campaigns.email_alert", ignore_result=True)
def email_alert(*, user_ids: list[int], subject: str, text: str, url: str) -> None:
    """Kept only for alerts queued by an older version before an upgrade: new ones go by
    ``accounts.email_alert`` (accounts/notify.py decides who hears about what)."""
    from accounts.notify import email_send

    email_send(user_ids=user_ids, subject=subject, text=text, url=url)


@shared_task(name="campaigns.message_settled_alert", ignore_result=True)
def message_settled_alert(*, message_id: int, status: str) -> None:
    """Tell a message's author it was published or failed (after the publishing engine settled it)."""
    from campaigns.services.alerts import alert_settled

    alert_settled(message_id=message_id, status=status)
