"""Publishing: the one send engine (docs/publishing.md).

    schedule   which deliveries a message has and when; a person's retry or reconciliation; the early tick
    pause      the publishing pause, its review on resume and the emergency override
    outbound   the rules every outbound row follows, a message's delivery or an answer to a citizen
    lifecycle  claim, begin, finish, skip, reap and settle of a delivery: every status change, by conditional update
    send       the worker's side: the payload from the approved snapshot, the adapter call, the outcome
    withdraw   stop what has not left, take down what was posted
    tasks      the Celery tasks (the only module here that is one)

The names below are the package's services, for callers that say ``publishing.message_schedule``.
"""

from campaigns.publishing.schedule import (
    PlannedDelivery,
    delivery_resolve_unconfirmed,
    delivery_retry,
    enqueue_tick,
    message_schedule,
    plan_deliveries,
)

from campaigns.publishing.pause import (  # isort: skip - schedule first: the pause asks it for ticks
    RESUME_REVIEW_AFTER,
    delivery_release,
    emergency_pause_override,
    is_paused_for,
    paused_team_ids,
    publishing_pause,
    publishing_resume,
)
from campaigns.publishing.outbound import (  # isort: skip
    IDEMPOTENT_KINDS,
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    STALE_CLAIM,
    call_platform,
    outcome_values,
)
from campaigns.publishing.lifecycle import (  # isort: skip
    SendPermit,
    deliveries_claim_due,
    deliveries_reap_stale,
    delivery_begin,
    delivery_finish,
    delivery_skip_in_flight,
    delivery_unclaim,
    message_settle,
)
from campaigns.publishing.send import NotApproved, adapter_for, build_payload, delivery_send, http_client_for  # isort: skip
from campaigns.publishing.withdraw import (  # isort: skip
    DELETE_WINDOWS,
    delete_window_passed,
    delivery_mark_removed_by_hand,
    delivery_take_down,
    delivery_taken_down,
    message_withdraw,
)

__all__ = [
    "DELETE_WINDOWS", "IDEMPOTENT_KINDS", "MAX_ATTEMPTS", "RESUME_REVIEW_AFTER", "RETRY_BASE_SECONDS", "STALE_CLAIM",
    "NotApproved",
    "PlannedDelivery", "SendPermit", "adapter_for", "build_payload", "call_platform", "outcome_values", "delete_window_passed", "deliveries_claim_due",
    "deliveries_reap_stale", "delivery_begin", "delivery_finish", "delivery_mark_removed_by_hand", "delivery_release",
    "delivery_resolve_unconfirmed", "delivery_retry", "delivery_send", "delivery_skip_in_flight", "delivery_take_down",
    "delivery_taken_down", "delivery_unclaim", "emergency_pause_override", "enqueue_tick", "http_client_for",
    "is_paused_for", "message_schedule", "message_settle", "message_withdraw", "paused_team_ids", "plan_deliveries",
    "publishing_pause", "publishing_resume",
]
