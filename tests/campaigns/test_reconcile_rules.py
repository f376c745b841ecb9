"""The reconciler's reading of a platform's answer (campaigns/publishing/reconcile.py), without a platform.

An adapter is third-party territory: its look-up may raise, break, or answer something that is not one
of the three states. Whatever it does, only a well-formed "found" (with the platform's id) or "absent"
settles a row; anything else is "unknown", for a person. The window asked about starts a minute
before the last call began, and the audit keeps the platform's sentence masked and cut.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from campaigns.publishing.reconcile import WINDOW_SKEW, ask, audit_summary, lookup_query
from platforms.base import AdapterError, LookupQuery, LookupResult, Payload

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
QUERY = LookupQuery(idempotency_key="engage-1", payload=Payload(text="Roads close at noon"),
                    sent_after=NOW - timedelta(minutes=5), sent_before=NOW)


class Answers:
    """An adapter's look-up that answers ``result``, or raises it."""

    def __init__(self, result):
        self.result = result
        self.asked: list[LookupQuery] = []

    def lookup(self, query):
        self.asked.append(query)
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


@pytest.mark.parametrize("answer", [
    LookupResult("found", "One post matches.", external_id="991", external_url="https://x.test/991"),
    LookupResult("absent", "No post in the window.", http_status=200),
    LookupResult("unknown", "Too many posts to search.", http_status=200),
])
def test_a_well_formed_answer_is_taken_as_it_is(answer):
    adapter = Answers(answer)
    assert ask(adapter, QUERY) is answer
    assert adapter.asked == [QUERY]


@pytest.mark.parametrize("answer", [
    LookupResult("maybe", "Perhaps.", http_status=200),  # not one of the three states
    LookupResult("FOUND", "Upper case.", external_id="1", http_status=200),
    LookupResult("found", "Found, but no id to record.", http_status=200),
])
def test_an_answer_that_cannot_be_read_is_unknown_and_keeps_its_http_status(answer):
    assert ask(Answers(answer), QUERY) == LookupResult("unknown", "The platform's answer could not be read.",
                                                      http_status=200)


def test_an_adapter_error_is_unknown_with_the_platforms_reason():
    result = ask(Answers(AdapterError("rate limited", http_status=429)), QUERY)
    assert result == LookupResult("unknown", "The platform could not tell: rate limited", http_status=429)


def test_a_look_up_that_breaks_is_unknown():
    assert ask(Answers(KeyError("statuses")), QUERY) == LookupResult("unknown", "The look-up failed unexpectedly.")


def test_the_window_starts_a_minute_before_the_last_call_began_else_the_claim_else_the_row():
    made, claimed, called = NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW - timedelta(minutes=10)
    payload = Payload(text="Roads close at noon")

    def row(**times):
        return SimpleNamespace(idempotency_key="engage-7", created_at=made, **times)

    query = lookup_query(row(last_attempt_at=called, claimed_at=claimed), payload, now=NOW)
    assert query == LookupQuery(idempotency_key="engage-7", payload=payload, sent_after=called - WINDOW_SKEW,
                                sent_before=NOW)
    assert lookup_query(row(last_attempt_at=None, claimed_at=claimed), payload, now=NOW).sent_after == (
        claimed - WINDOW_SKEW)
    assert lookup_query(row(last_attempt_at=None, claimed_at=None), payload, now=NOW).sent_after == made - WINDOW_SKEW
    assert lookup_query(row(), payload, now=NOW).sent_after == made - WINDOW_SKEW  # a row without those fields
    assert WINDOW_SKEW == timedelta(minutes=1)


def test_the_audit_keeps_the_masked_sentence_cut_to_300_and_the_decision():
    long = "Call 07700 900123 about it. " + "x" * 400
    found = LookupResult("found", long, external_id="9" * 250, http_status=200)
    summary = audit_summary(found, status="sent", asks=2)
    assert "07700 900123" not in summary["detail"] and len(summary["detail"]) == 300
    assert summary["external_id"] == "9" * 200
    assert {k: summary[k] for k in ("platform_answer", "http_status", "decision", "status", "ask")} == {
        "platform_answer": "found", "http_status": 200, "decision": "sent", "status": "sent", "ask": 2}
    absent = LookupResult("absent", "None.", http_status=404)
    assert audit_summary(absent, status="withdrawn", asks=1)["decision"] == "withdrawn"
    assert audit_summary(absent, status="failed", asks=1)["decision"] == "failed"
    assert audit_summary(absent, status="pending", asks=1)["decision"] == "send again"
    assert audit_summary(LookupResult("unknown", "?"), status="unconfirmed", asks=6)["decision"] == "left for a person"
