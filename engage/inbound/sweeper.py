"""The sweeper: what keeps the inbound side moving when a broker message was lost.

Run every few seconds by beat (``engage.sweep``). Each step works from the database alone:

1. replies still unprocessed a few seconds after they were stored are processed here
   (the enqueue after the commit may have failed, or the worker died);
2. free-text answers whose message has been approved are released for sending;
3. pending answers (templates, urgent answers, released free text, retries) are sent;
4. the send engine's reaper over answers (``campaigns.publishing.outbound.reap_stale``): a claim that
   never went in flight goes back to pending; an answer in flight for longer than a task may run
   becomes unconfirmed;
5. the engine's reconciliation over answers (``engage.inbound.answer_reconcile``): an unconfirmed
   answer on a channel whose platform can be asked is asked, and sent, sent again or left for a person;
6. replies that passed their response time unanswered are told to their liaison officers, once
   (``engage.inbound.sla_alerts``).

Every step claims its rows by conditional update or row lock, so two sweepers (or a sweeper and
a worker) never do the same work twice.
"""

from __future__ import annotations

import logging
import time

from engage.inbound.answer_reconcile import answers_reconcile
from engage.inbound.answer_sending import answer_send, answers_due, answers_reap_stuck
from engage.inbound.answers import answers_release_approved
from engage.inbound.processing import replies_unprocessed, reply_process_safely
from engage.inbound.sla_alerts import replies_alert_overdue

logger = logging.getLogger(__name__)

TIME_BUDGET_SECONDS = 20.0


def replies_sweep(*, older_than_seconds: float = 5.0, budget: float = TIME_BUDGET_SECONDS) -> dict[str, int]:
    started = time.monotonic()
    processed = 0
    for reply_id in replies_unprocessed(older_than_seconds=older_than_seconds):
        if time.monotonic() - started > budget:
            break
        processed += int(reply_process_safely(reply_id=reply_id))
    released = answers_release_approved()
    sent = 0
    for answer_id in dict.fromkeys([*released, *answers_due(older_than_seconds=older_than_seconds)]):
        if time.monotonic() - started > budget:
            break
        try:
            sent += int(answer_send(answer_id=answer_id) == "sent")
        except Exception:  # noqa: BLE001 - one broken answer must not stop the sweep
            logger.exception("Sending answer %s failed", answer_id)
    reaped = answers_reap_stuck()
    try:
        settled = sum(n for status, n in answers_reconcile().items() if status != "skipped")
    except Exception:  # noqa: BLE001 - the look-ups must not stop the sweep; the next one asks again
        logger.exception("Reconciling unconfirmed answers failed")
        settled = 0
    return {"processed": processed, "released": len(released), "sent": sent, "unconfirmed": reaped,
            "looked_up": settled, "overdue_alerted": replies_alert_overdue()}
