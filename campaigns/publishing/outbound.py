"""The rules every outbound row follows, whatever it carries: the one send engine's core.

Two kinds of row leave through this engine: a message's ``Delivery`` (:mod:`.lifecycle`, :mod:`.send`)
and an answer to a citizen (``engage.inbound.answer_sending``, on ``ReplyAnswer``). Both have the same
fields (``status``, ``claim_token``, ``claimed_at``, ``in_flight_since``, ``attempts``,
``next_attempt_at``, ``sent_at``, ``external_id``, ``last_error``, ``idempotency_key``) with the same
status names, and both follow the same rules, written once, here:

* a row is claimed by conditional update under a fresh claim token (:func:`claim`); only the worker
  holding the token may go on;
* while a pause covers its team it does not leave, unless an emergency override lets it
  (:func:`held_by_pause`); a claimed row not yet in flight goes back to pending (:func:`release_claim`);
* just before the platform call, after its approval was recomputed, it is marked in flight by
  conditional update on the token (:func:`mark_in_flight`; a delivery's is one hand-written statement
  that also re-checks its message, ``lifecycle._in_flight_sql``): only one worker can;
* the platform's answer is sorted into sent, transient, failed or unconfirmed (:func:`call_platform`):
  a call that may have reached the platform is never retried blindly, except on a platform that
  deduplicates on our idempotency key;
* the outcome's new values, with backoff and the attempt limit from settings (:func:`outcome_values`),
  are written by conditional update on the token and the in-flight marker;
* after a crash, a claim that never went in flight goes back to pending and a row in flight for longer
  than a task may run becomes unconfirmed, or pending again on a deduplicating platform (:func:`reap_stale`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Model, QuerySet

from campaigns.models import Channel, ChannelHealth, DeliveryStatus
from campaigns.publishing.pause import team_is_paused
from core.dbretry import with_reconnect
from core.failpoints import failpoint
from platforms.base import (
    AdapterError,
    AuthExpiredError,
    PartialDeliveryError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)

logger = logging.getLogger(__name__)

# The statuses the engine moves a row between; ReplyAnswer's have the same names.
PENDING, SENDING, SENT = DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT
FAILED, UNCONFIRMED = DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED

MAX_ATTEMPTS = settings.ENGAGE_MAX_DELIVERY_ATTEMPTS
RETRY_BASE_SECONDS = settings.ENGAGE_RETRY_BASE_SECONDS
MAX_BACKOFF_SECONDS = 900
STALE_CLAIM = timedelta(seconds=settings.ENGAGE_STALE_CLAIM_SECONDS)  # read again by the reaper
# A platform (a slow partner) may still be working on a request we gave up on: an unconfirmed row is
# first asked about (``reconcile``) this long after its call began, not before.
LOOKUP_GRACE = timedelta(minutes=2)
PARTLY_DELIVERED = "Partly delivered:"  # a list send some of whose recipients have it: a person decides


def _idempotent_kinds() -> frozenset[str]:
    """Channel kinds whose platform deduplicates on our idempotency key (a class attribute)."""
    from platforms import KINDS, adapter_class

    return frozenset(k for k in KINDS if getattr(adapter_class(k), "honours_idempotency_key", False))


IDEMPOTENT_KINDS = _idempotent_kinds()


# --- claim and release ---------------------------------------------------------------------------

def claim(rows: QuerySet, *, now: datetime) -> tuple[str, int]:
    """Claim the pending ``rows`` under one fresh token, in one statement: (token, rows claimed)."""
    token = uuid.uuid4().hex
    return token, rows.filter(status=PENDING).update(status=SENDING, claim_token=token, claimed_at=now)


def release_claim(rows: QuerySet, *, token: str, **values: Any) -> int:
    """Put a row this token claimed back to pending, if it has not gone in flight (a pause, the broker down)."""
    return rows.filter(status=SENDING, claim_token=token, in_flight_since__isnull=True).update(
        status=PENDING, claim_token="", claimed_at=None, **values)


def held_by_pause(team_id: int, *, overridden: bool, any_pause: bool | None = None) -> bool:
    """A pause covers the team and no emergency override lets this row go."""
    return team_is_paused(team_id, any_pause=any_pause) and not overridden


def mark_in_flight(rows: QuerySet, *, token: str, now: datetime) -> int:
    """Just before the platform call: only if still claimed under ``token`` and not in flight yet."""
    return rows.filter(status=SENDING, claim_token=token, in_flight_since__isnull=True).update(
        in_flight_since=now, attempts=F("attempts") + 1)


# --- the platform call ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CallOutcome:
    outcome: str  # sent, transient, failed or unconfirmed
    error: str = ""
    http_status: int | None = None
    external_id: str = ""
    external_url: str = ""
    retry_after: float | None = None


def call_platform(adapter, payload: Payload, *, idempotency_key: str, channel_id: int) -> CallOutcome:
    """Publish and sort the platform's answer. Anything after the call began that we cannot read is
    unconfirmed: the platform may have it."""
    try:
        result = adapter.publish(payload, idempotency_key=idempotency_key)
    except PartialDeliveryError as exc:
        # Some recipients have it: keep their ids; never resend to them. A person decides the rest.
        accepted = exc.result.external_id if exc.result else ",".join(exc.accepted.values())
        return CallOutcome("unconfirmed", external_id=accepted, http_status=exc.http_status,
                           error=f"{PARTLY_DELIVERED} {len(exc.accepted)} accepted, {len(exc.unconfirmed)} "
                                 f"unconfirmed, {len(exc.unsent)} not sent. {exc}")
    except UnconfirmedError as exc:
        # The platform may have it. Only a platform that deduplicates on our key may be asked again.
        return CallOutcome("transient" if adapter.honours_idempotency_key else "unconfirmed", error=str(exc),
                           http_status=exc.http_status)
    except TransientError as exc:
        return CallOutcome("transient", error=str(exc), http_status=exc.http_status, retry_after=exc.retry_after)
    except AuthExpiredError as exc:
        _mark_auth_expired(channel_id, exc)
        return CallOutcome("failed", error=str(exc), http_status=exc.http_status)
    except (PermanentError, AdapterError) as exc:
        return CallOutcome("failed", error=str(exc), http_status=getattr(exc, "http_status", None))
    except Exception as exc:  # noqa: BLE001 - after the call began we cannot know: never resend blindly
        logger.exception("Unexpected error during the platform call for %s", idempotency_key)
        return CallOutcome("unconfirmed", error=f"Unexpected error: {exc!r}"[:500])
    return CallOutcome("sent", external_id=result.external_id, external_url=result.external_url,
                       http_status=result.http_status)


def _mark_auth_expired(channel_id: int, exc: AuthExpiredError) -> None:
    """The channel's health after the platform refused its credential. Written again on a new
    connection if the database drops it (``core.dbretry``); if it still cannot be written, only
    logged: the outcome (failed) is known and must be recorded whatever becomes of this note."""
    def write() -> int:
        failpoint("auth_expired")
        return Channel.objects.filter(pk=channel_id).update(health=ChannelHealth.AUTH_EXPIRED,
                                                            health_detail=str(exc)[:500])

    try:
        with_reconnect(write, what=f"marking channel {channel_id}'s credential expired")
    except Exception:  # noqa: BLE001 - never turn a known outcome into an unconfirmed one
        logger.exception("Could not mark channel %s's credential expired", channel_id)


# --- the outcome ----------------------------------------------------------------------------------

def backoff(attempts: int, retry_after: float | None) -> timedelta:
    base = min(RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS)
    return timedelta(seconds=max(base, retry_after or 0))


def outcome_values(*, outcome: str, attempts: int, now: datetime, error: str = "", external_id: str = "",
                   external_url: str = "", retry_after: float | None = None,
                   started_at: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """The outcome as recorded and the row's new values. A transient outcome is retried after a backoff
    until the row has made ``MAX_ATTEMPTS`` attempts; then, as anything else unknown, it failed. An
    unconfirmed one keeps when its call began (``started_at``) and is asked about afresh (``reconcile``),
    once ``LOOKUP_GRACE`` has passed since then."""
    done = {"in_flight_since": None, "claim_token": ""}
    if outcome == "sent":
        return outcome, {"status": SENT, "sent_at": now, "external_id": external_id[:200],
                         "external_url": external_url[:500], "last_error": "", **done}
    if outcome == "transient" and attempts < MAX_ATTEMPTS:
        return outcome, {"status": PENDING, "last_error": error, "claimed_at": None,
                         "next_attempt_at": now + backoff(attempts, retry_after), **done}
    if outcome == "unconfirmed":
        began = started_at or now
        return outcome, {"status": UNCONFIRMED, "last_error": error, "external_id": external_id[:200],
                         "external_url": external_url[:500], "last_attempt_at": began, "lookup_token": "",
                         "lookup_asks": 0, "lookup_next_at": began + LOOKUP_GRACE, "lookup_answer": "", **done}
    return "failed", {"status": FAILED, "last_error": error, **done}


def finished_guard(rows: QuerySet, *, token: str | None) -> QuerySet:
    """The rows an outcome may be written to: in flight and, unless the reaper writes it, under ``token``."""
    guard = rows.filter(status=SENDING, in_flight_since__isnull=False)
    return guard if token is None else guard.filter(claim_token=token)


# --- after a crash --------------------------------------------------------------------------------

def reap_stale(rows: QuerySet, *, now: datetime, kind_of: Callable[[Model], str],
               finish: Callable[[Model, str, str], int]) -> dict[str, int]:
    """Stale claims go back to pending; rows in flight for longer than a task may run are finished
    (``finish(row, outcome, error)``) as unconfirmed, or transient where the platform deduplicates."""
    stale = timedelta(seconds=settings.ENGAGE_STALE_CLAIM_SECONDS)  # STALE_CLAIM, unless a test shortens it
    back = rows.filter(status=SENDING, in_flight_since__isnull=True, claimed_at__lt=now - stale).update(
        status=PENDING, claim_token="", claimed_at=None)
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    unconfirmed = retried = 0
    for row in list(rows.filter(status=SENDING, in_flight_since__lt=now - limit)):
        if kind_of(row) in IDEMPOTENT_KINDS:
            retried += finish(row, "transient",
                              "The worker stopped during the platform call; retrying with the same key.")
        else:
            unconfirmed += finish(row, "unconfirmed",
                                  "The worker stopped during the platform call: check before reposting.")
    return {"released": back, "unconfirmed": unconfirmed, "retried": retried}
