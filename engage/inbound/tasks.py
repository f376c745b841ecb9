"""Thin Celery tasks for the inbound room: take ids, call one service.

Processing is also done by the sweeper from the database, so a lost task message (broker down,
worker killed) delays a reply by a few seconds but never loses it.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="engage.process_reply", ignore_result=True, acks_late=True)
def process_reply(*, reply_id: int) -> bool:
    from engage.inbound.processing import reply_process_safely

    return reply_process_safely(reply_id=reply_id)


@shared_task(name="engage.send_answer", ignore_result=True, acks_late=True)
def send_answer(*, answer_id: int) -> str:
    from engage.inbound.answer_sending import answer_send

    return answer_send(answer_id=answer_id)


@shared_task(name="engage.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    from engage.inbound.sweeper import replies_sweep

    return replies_sweep()


@shared_task(name="engage.poll_mastodon", ignore_result=True)
def poll_mastodon() -> dict[int, int]:
    from engage.inbound.ingest import mastodon_poll_all

    return mastodon_poll_all()


@shared_task(name="engage.retention", ignore_result=True)
def retention() -> dict[str, int]:
    from engage.inbound.retention import replies_apply_retention

    return replies_apply_retention()
