"""Thin Celery tasks of the accounts room."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.publish_audit_head", ignore_result=True)
def publish_audit_head() -> int | None:
    """Once a day: sign and publish the audit chain head (accounts.audit_publish)."""
    from accounts.audit_publish import audit_head_publish

    publication = audit_head_publish()
    return publication.last_id if publication is not None else None
