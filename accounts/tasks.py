"""Thin Celery tasks of the accounts room."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.publish_audit_head", ignore_result=True)
def publish_audit_head() -> int | None:
    """Once a day: sign and publish the audit chain head (accounts.audit_publish)."""
    from accounts.audit_publish import audit_head_publish

    publication = audit_head_publish()
    return publication.last_id if publication is not None else None


@shared_task(name="accounts.email_alert", ignore_result=True)
def email_alert(*, user_ids: list[int], subject: str, text: str, url: str) -> None:
    """The email that goes with an alert (``accounts.notify``), after the alert's commit."""
    from accounts.notify import email_send

    email_send(user_ids=user_ids, subject=subject, text=text, url=url)
