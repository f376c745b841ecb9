"""Retention with a moved clock, legal hold, erasure, and what the metrics keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import AuditEvent
from core.errors import NotAllowed
from engage.inbound import policies, retention, triage
from engage.inbound.tasks import retention as retention_task
from engage.metrics import trust_metrics
from engage.models import RejectedInbound, Reply
from tests.engage.inbound_helpers import make_reply

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _redacted(reply: Reply) -> bool:
    reply.refresh_from_db()
    return reply.redacted_at is not None


@pytest.fixture
def replies(world):
    with time_machine.travel(T0, tick=False):
        made = {
            "praise": make_reply(world.a, text="Thank you, brilliant work today!", author="@fan"),
            "question": make_reply(world.a, text="Where is gate B? Call me on 07700 900123", author="+447700900123"),
            "complaint": make_reply(world.a, text="This is disgraceful, nobody helped us and we waited for hours.",
                                    author="@angry"),
            "other_team_praise": make_reply(world.b, text="Thanks for the help today", author="@b"),
        }
        triage.reply_note_add(actor=world.a.liaison, reply=made["praise"], body="Fan called back on 07700 900999")
    return made


def test_each_category_is_redacted_when_its_period_ends(world, replies):
    with time_machine.travel(T0 + timedelta(days=29), tick=False):
        assert retention.replies_apply_retention() == {}
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        done = retention.replies_apply_retention()
    assert done == {f"{world.a.team.pk}:praise": 1, f"{world.b.team.pk}:praise": 1}
    praise = replies["praise"]
    assert _redacted(praise) and not _redacted(replies["question"]) and not _redacted(replies["complaint"])
    assert (praise.text, praise.raw_text, praise.text_masked, praise.author_handle, praise.author_name,
            praise.author_key, praise.raw_payload) == ("", "", "", "", "", "", None)
    assert praise.notes.get().body == "[redacted]"
    # What stays is anonymous and still counts.
    assert (praise.category, praise.sentiment, praise.language) == ("praise", "positive", "en")
    assert praise.redacted_at == T0 + timedelta(days=31)
    event = AuditEvent.objects.filter(verb="reply.redacted", team=world.a.team).get()
    assert event.summary["category"] == "praise" and event.summary["count"] == 1 and event.actor is None
    with time_machine.travel(T0 + timedelta(days=181), tick=False):
        retention.replies_apply_retention()
    assert _redacted(replies["question"]) and not _redacted(replies["complaint"])
    with time_machine.travel(T0 + timedelta(days=366), tick=False):
        retention_task()  # the daily task itself
    assert _redacted(replies["complaint"])
    metrics = trust_metrics(user=world.a.admin)
    assert metrics["replies"] == 3 and metrics["by_category"] == {"complaint": 1, "praise": 1, "question": 1}


def test_legal_hold_stops_redaction_until_it_is_lifted(world, replies):
    praise = replies["praise"]
    triage.reply_update(actor=world.a.supervisor, reply=praise, legal_hold=True)
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        retention.replies_apply_retention()
    assert not _redacted(praise) and praise.text == "Thank you, brilliant work today!"
    assert _redacted(replies["complaint"])
    triage.reply_update(actor=world.a.supervisor, reply=praise, legal_hold=False)
    with time_machine.travel(T0 + timedelta(days=401), tick=False):
        retention.replies_apply_retention()
    assert _redacted(praise)


def test_a_team_can_keep_a_category_for_less_time(world, replies):
    policies.retention_policy_set(actor=world.a.admin, team=world.a.team, category="complaint", days=7)
    with pytest.raises(NotAllowed):
        policies.retention_policy_set(actor=world.a.liaison, team=world.a.team, category="complaint", days=1)
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        retention.replies_apply_retention()
    assert _redacted(replies["complaint"]) and not _redacted(replies["praise"])


def test_erasure_by_phone_number_spares_legal_holds_and_other_teams(world, replies):
    held = make_reply(world.a, text="Another message, number 07700 900123", author="07700 900123")
    triage.reply_update(actor=world.a.admin, reply=held, legal_hold=True)
    elsewhere = make_reply(world.b, text="Team B message", author="+44 7700 900123")
    with pytest.raises(NotAllowed):
        retention.replies_erase(actor=world.a.supervisor, handle="+447700900123")
    result = retention.replies_erase(actor=world.a.admin, handle="(07700) 900-123", reason="Request 42")
    assert result == {"erased": 1, "held": 1, "list_entries": 0}
    assert _redacted(replies["question"]) and not _redacted(held) and not _redacted(elsewhere)
    event = AuditEvent.objects.get(verb="reply.erased")
    assert event.summary["erased"] == 1 and event.summary["held"] == 1
    assert "+447700900123" not in str(event.summary)  # the audit keeps a digest, not the number


def test_subject_access_exports_everything_about_one_person(world, replies):
    export = retention.replies_subject_access(actor=world.a.admin, handle="@FAN")
    assert export["count"] == 1
    row = export["replies"][0]
    assert row["text"] == "Thank you, brilliant work today!" and row["notes"][0]["text"].startswith("Fan called")
    assert AuditEvent.objects.filter(verb="reply.subject_access_exported", actor=world.a.admin).count() == 1


def test_refused_requests_are_kept_for_thirty_days(world):
    with time_machine.travel(T0, tick=False):
        RejectedInbound.objects.create(channel_ref="1", code="auth.invalid", status=403)
    with time_machine.travel(T0 + timedelta(days=29), tick=False):
        retention.replies_apply_retention()
    assert RejectedInbound.objects.count() == 1
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        retention.replies_apply_retention()
    assert RejectedInbound.objects.count() == 0
