"""Thin Celery task for event awareness: beat runs it every minute."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="awareness.run", ignore_result=True)
def run() -> dict[str, int]:
    from engage.awareness.worker import watches_run

    return watches_run()
