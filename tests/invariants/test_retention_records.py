"""Retention and people's rights: what is exported, what is written where, and what the audit keeps.

``tests/engage/inbound/test_retention.py`` drives the periods and holds and ``test_retention_copies.py``
scans every column for a reply's words afterwards. These state the exact records: a
subject-access export holds every field of every reply and list entry of the person (and only
theirs), each batch of a retention run is audited with its own range, erasure reports and audits
what it did, and redaction leaves the anonymous marks it promises (a provider id that still
tells replies apart, the answer message's placeholder title, the staff notification's text).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, Notification
from campaigns.models import ListRecipient, Message, MessageStatus
from campaigns.services.channels import channel_create
from campaigns.services.recipients import recipient_add
from engage.inbound import answers, policies, retention, triage
from engage.inbound.identity import key_digest
from engage.models import AnswerFeedback, AnswerStatus, RejectedInbound, Reply, ReplyAnswer
from tests.engage.inbound_helpers import make_reply
from tests.factories import make_message

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NUMBER = "+447700900555"


def _audits(verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb).order_by("pk"))


def test_the_subject_access_export_holds_every_field_of_each_of_the_persons_replies_and_list_entries(world):
    a = world.a
    with time_machine.travel(T0, tick=False):
        texted = make_reply(a, channel=a.sms, source="sms", author=NUMBER, text="Where is gate B?")
        triage.reply_note_add(actor=a.liaison, reply=texted, body="Asked twice")
        answer = answers.answer_free_text(actor=a.liaison, reply=texted, body="Gate B is by the car park.")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        formed = make_reply(a, author="07700 900555", text="Thank you, brilliant work today!")
        triage.reply_update(actor=a.supervisor, reply=formed, legal_hold=True)
        entry = recipient_add(actor=a.admin, channel=a.sms, address="07700 900555", language="ar",
                              segments=[a.segment], consent_source="signed up at the desk")
    make_reply(a, author="+447700900556", text="Someone else")  # another person: not exported
    make_reply(world.b, author=NUMBER, text="Team B")  # a team the admin does not administer
    texted.refresh_from_db()
    formed.refresh_from_db()
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        export = retention.replies_subject_access(actor=a.admin, handle="(07700) 900 555")
    assert export == {
        "handle": NUMBER, "count": 2, "generated_at": (T0 + timedelta(days=2)).isoformat(),
        "replies": [
            {"id": texted.pk, "received_at": T0.isoformat(), "source": "sms", "channel": a.sms.name,
             "author_handle": NUMBER, "author_name": "Jane Doe", "text": "Where is gate B?",
             "raw_text": texted.raw_text, "language": texted.language, "category": texted.category,
             "sentiment": texted.sentiment, "status": texted.status, "legal_hold": False,
             "answers": [{"sent_at": None, "status": answer.status, "text": "Gate B is by the car park."}],
             "notes": [{"at": T0.isoformat(), "text": "Asked twice"}]},
            {"id": formed.pk, "received_at": (T0 + timedelta(hours=1)).isoformat(), "source": "web",
             "channel": "Public form", "author_handle": "07700 900555", "author_name": "Jane Doe",
             "text": "Thank you, brilliant work today!", "raw_text": formed.raw_text, "language": "en",
             "category": "praise", "sentiment": "positive", "status": formed.status, "legal_hold": True,
             "answers": [], "notes": []},
        ],
        "lists": [{"channel": a.sms.name, "kind": "sms", "address": NUMBER, "language": "ar",
                   "segments": [a.segment.name], "consent_source": "signed up at the desk",
                   "consented_at": entry.consented_at.isoformat(), "opted_out_at": None}],
    }
    assert texted.raw_text == "Where is gate B?" and texted.category == "question"
    [event] = _audits("reply.subject_access_exported")
    assert (event.actor, event.target_type) == (a.admin, "engage.reply")
    assert event.summary == {"author": key_digest(NUMBER), "count": 2, "ids": [texted.pk, formed.pk],
                             "list_entries": [entry.pk]}


def test_a_sent_answer_and_an_opted_out_entry_are_exported_with_their_times(world):
    a = world.a
    with time_machine.travel(T0, tick=False):
        reply = make_reply(a, author=NUMBER)
        answer = answers.answer_free_text(actor=a.liaison, reply=reply, body="Nine o'clock.")
        entry = recipient_add(actor=a.admin, channel=a.sms, address=NUMBER, consent_source="form")
    ReplyAnswer.objects.filter(pk=answer.pk).update(status=AnswerStatus.SENT, sent_at=T0 + timedelta(minutes=5))
    ListRecipient.objects.filter(pk=entry.pk).update(opted_out_at=T0 + timedelta(days=1))
    export = retention.replies_subject_access(actor=a.admin, handle=NUMBER)
    assert export["replies"][0]["answers"] == [{"sent_at": (T0 + timedelta(minutes=5)).isoformat(),
                                                "status": AnswerStatus.SENT, "text": "Nine o'clock."}]
    assert export["lists"][0]["opted_out_at"] == (T0 + timedelta(days=1)).isoformat()


def test_only_administrators_search_by_author_and_a_handle_is_required(world):
    a = world.a
    for actor in (a.supervisor, a.liaison, a.officer, world.outsider):
        with pytest.raises(retention.NotAllowed) as refused:
            retention.replies_subject_access(actor=actor, handle=NUMBER)
        assert str(refused.value) == "Only administrators can search replies by author."
    for blank in ("", "   "):
        with pytest.raises(retention.InvalidInput) as invalid:
            retention.replies_erase(actor=a.admin, handle=blank)
        assert str(invalid.value) == "Give a handle or a phone number."
        assert invalid.value.fields == {"handle": ["This field is required."]}
    assert not _audits("reply.erased") and not _audits("reply.subject_access_exported")


def test_erasure_reports_and_audits_what_it_did_and_keeps_the_reason_short(world):
    a = world.a
    erased = make_reply(a, author=NUMBER, text="Please forget me")
    held = make_reply(a, author=NUMBER, text="Evidence")
    triage.reply_update(actor=a.admin, reply=held, legal_hold=True)
    entry = recipient_add(actor=a.admin, channel=a.sms, address=NUMBER, consent_source="form")
    elsewhere = recipient_add(actor=world.b.admin, channel=world.b.sms, address=NUMBER, consent_source="form")
    result = retention.replies_erase(actor=a.admin, handle=NUMBER, reason="Request 42 <b>now</b>" + "x" * 400)
    assert result == {"erased": 1, "held": 1, "list_entries": 1}
    [event] = _audits("reply.erased")
    assert (event.actor, event.target_type) == (a.admin, "engage.reply")
    reason = event.summary.pop("reason")
    assert reason.startswith("Request 42") and "<b>" not in reason and len(reason) == 300
    assert event.summary == {"author": key_digest(NUMBER), "erased": 1, "held": 1, "ids": [erased.pk],
                             "list_entries": [entry.pk]}
    assert not ListRecipient.objects.filter(pk=entry.pk).exists()
    assert ListRecipient.objects.filter(pk=elsewhere.pk).exists()
    erased.refresh_from_db()
    held.refresh_from_db()
    assert erased.redacted_at is not None and held.redacted_at is None and held.text == "Evidence"
    # Erasing again (no reason given) finds nothing left to erase, and says so.
    assert retention.replies_erase(actor=a.admin, handle=NUMBER) == {"erased": 0, "held": 1, "list_entries": 0}
    again = _audits("reply.erased")[-1]
    assert again.summary == {"author": key_digest(NUMBER), "erased": 0, "held": 1, "ids": [], "list_entries": [],
                             "reason": ""}


def test_each_batch_of_a_retention_run_is_audited_with_its_own_range(world, monkeypatch):
    a = world.a
    monkeypatch.setattr(retention, "BATCH", 2)
    with time_machine.travel(T0, tick=False):
        praise = [make_reply(a, text="Thank you, brilliant work today!", author=f"@fan{i}") for i in range(5)]
        unclassified = make_reply(a, text="hm", author="@quiet", process=False)
    assert {r.category for r in praise} == {"praise"} and unclassified.category == ""
    days = policies.retention_days(team_id=a.team.pk)
    with time_machine.travel(T0 + timedelta(days=days["praise"] - 1), tick=False):
        assert retention.replies_apply_retention() == {}
    with time_machine.travel(T0 + timedelta(days=days["praise"] + 1), tick=False):
        assert retention.replies_apply_retention() == {f"{a.team.pk}:praise": 5}
    ids = [r.pk for r in praise]
    assert [(e.actor, e.team_id, e.target_type, e.summary) for e in _audits("reply.redacted")] == [
        (None, a.team.pk, "engage.reply", {"reason": "retention", "category": "praise", "days": days["praise"],
                                           "count": count, "first_id": first, "last_id": last})
        for count, first, last in ((2, ids[0], ids[1]), (2, ids[2], ids[3]), (1, ids[4], ids[4]))]
    assert days[""] == policies.UNCLASSIFIED_RETENTION_DAYS > days["praise"]
    with time_machine.travel(T0 + timedelta(days=days[""] + 1), tick=False):
        assert retention.replies_apply_retention() == {f"{a.team.pk}:unclassified": 1}
    last = _audits("reply.redacted")[-1]
    assert last.summary == {"reason": "retention", "category": "unclassified", "days": days[""], "count": 1,
                            "first_id": unclassified.pk, "last_id": unclassified.pk}
    assert Reply.objects.filter(redacted_at__isnull=True, team=a.team).count() == 0


def test_a_retention_run_reports_the_votes_it_deleted(world):
    a = world.a
    with time_machine.travel(T0, tick=False):
        reply = make_reply(a, author="@voter")
        AnswerFeedback.objects.create(team=a.team, helpful=True)
    assert reply.category
    longest = max(policies.retention_days(team_id=a.team.pk).values())
    with time_machine.travel(T0 + timedelta(days=longest + 1), tick=False):
        done = retention.replies_apply_retention()
    assert done["feedback"] == 1 and not AnswerFeedback.objects.exists()


def test_refused_requests_older_than_thirty_days_go_and_the_rest_stay(world):
    with time_machine.travel(T0, tick=False):
        old = RejectedInbound.objects.create(channel_ref="1", code="auth.invalid", status=403)
    with time_machine.travel(T0 + timedelta(days=20), tick=False):
        recent = RejectedInbound.objects.create(channel_ref="1", code="auth.invalid", status=403)
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        assert retention.replies_apply_retention() == {}
    assert list(RejectedInbound.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk


def test_redaction_leaves_anonymous_marks_and_withdraws_only_what_has_not_gone_out(world):
    a = world.a
    unrelated = make_message(a)  # so that no message shares its id with an answer by chance
    reply = make_reply(a, channel=a.sms, source="sms", author=NUMBER, text="Where do I collect my bag?")
    Reply.objects.filter(pk=reply.pk).update(urgent_terms=["knife"], processing_error="classifier: knife at gate")
    triage.reply_escalate(actor=a.liaison, reply=reply, reason="Wants a call")
    drafted = answers.answer_free_text(actor=a.supervisor, reply=reply, body="Your bag is at the desk.")
    other = make_reply(a, channel=a.sms, source="sms", author="+447700900556", text="Where is gate C?")
    other_answer = answers.answer_free_text(actor=a.supervisor, reply=other, body="Gate C is by the river.")
    Message.objects.filter(pk=drafted.message_id).update(links=["https://example.org"], cap={"event": "x"})
    notified = list(Notification.objects.filter(url__endswith=f"/{reply.pk}/").values_list("pk", flat=True))
    assert notified
    erased_at = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(erased_at, tick=False):
        retention.replies_erase(actor=a.admin, handle=NUMBER)
    reply.refresh_from_db()
    assert reply.provider_id == f"redacted:{reply.pk}" and reply.urgent_terms == []
    assert reply.processing_error == "" and reply.redacted_at == reply.updated_at == erased_at
    assert Message.objects.get(pk=unrelated.pk).body == unrelated.body
    message = Message.objects.get(pk=drafted.message_id)
    assert (message.title, message.body, message.links, message.cap, message.status) == (
        "Answer (redacted)", "[redacted]", [], {}, MessageStatus.WITHDRAWN)
    assert message.withdrawn_at is not None and message.updated_at == erased_at
    assert {str(v) for v in message.versions.values_list("snapshot", flat=True)} == {str({"redacted": True})}
    assert set(Notification.objects.filter(pk__in=notified).values_list("text", flat=True)) == {
        "A reply was redacted under the retention policy."}
    # Another person's answer and message are untouched.
    other_message = Message.objects.get(pk=other_answer.message_id)
    assert other_message.body != "[redacted]" and other_message.status != MessageStatus.WITHDRAWN
    assert ReplyAnswer.objects.get(pk=other_answer.pk).body == "Gate C is by the river."


def test_redacting_a_sent_answers_message_keeps_its_status(world):
    a = world.a
    reply = make_reply(a, channel=a.sms, source="sms", author=NUMBER)
    drafted = answers.answer_free_text(actor=a.supervisor, reply=reply, body="Nine o'clock at gate A.")
    Message.objects.filter(pk=drafted.message_id).update(status=MessageStatus.PUBLISHED)
    ReplyAnswer.objects.filter(pk=drafted.pk).update(status=AnswerStatus.SENT, last_error="x")
    retention.replies_erase(actor=a.admin, handle=NUMBER)
    message = Message.objects.get(pk=drafted.message_id)
    assert message.status == MessageStatus.PUBLISHED and message.withdrawn_at is None and message.body == "[redacted]"
    sent = ReplyAnswer.objects.get(pk=drafted.pk)
    assert (sent.status, sent.body, sent.last_error) == (AnswerStatus.SENT, "[redacted]", "")


def test_a_reply_under_legal_hold_is_neither_redacted_nor_counted_nor_audited(world):
    a = world.a
    with time_machine.travel(T0, tick=False):
        held = make_reply(a, text="Thank you, brilliant work today!", author="@held")
    triage.reply_update(actor=a.supervisor, reply=held, legal_hold=True)
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        assert retention.replies_apply_retention() == {}
    assert not _audits("reply.redacted")
    held.refresh_from_db()
    assert held.redacted_at is None and held.text == "Thank you, brilliant work today!"


def test_a_run_given_its_time_uses_it_for_replies_refused_requests_and_votes(world):
    """``now`` (the task passes none; a backfill or a test may pass one) is the one clock of the run."""
    a = world.a
    reply = make_reply(a, text="Thank you, brilliant work today!", author="@later")
    AnswerFeedback.objects.create(team=a.team, helpful=False)
    RejectedInbound.objects.create(channel_ref="1", code="auth.invalid", status=403)
    # Everything was made just now: at the clock's time nothing is due; at the run's, all of it.
    later = datetime.now(tz=UTC) + timedelta(days=max(policies.retention_days(team_id=a.team.pk).values()) + 1)
    done = retention.replies_apply_retention(now=later)
    assert done == {f"{a.team.pk}:praise": 1, "feedback": 1}
    reply.refresh_from_db()
    assert reply.redacted_at == later
    assert not AnswerFeedback.objects.exists() and not RejectedInbound.objects.exists()


def test_the_export_costs_the_same_queries_for_one_reply_or_many(world):
    """The export reads replies, their answers, notes and channels, and list entries with their
    segments, in a fixed number of queries: a person with many replies does not cost one query each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = world.a

    def cost(handle: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            retention.replies_subject_access(actor=a.admin, handle=handle)
        return len(queries)

    second_list = channel_create(actor=a.admin, team=a.team, kind="sms", name="SMS A2",
                                 config={"api_base": "http://127.0.0.1:9", "account_sid": "AC2",
                                         "from_number": "+447700900001", "auth_token": "sms-secret-2"})

    def person(number: str, replies: int, lists: list) -> None:
        for i in range(replies):
            reply = make_reply(a, channel=a.sms, source="sms", author=number, text=f"Question {i}?")
            triage.reply_note_add(actor=a.liaison, reply=reply, body=f"Note {i}")
            answers.answer_free_text(actor=a.liaison, reply=reply, body=f"Answer {i}.")
        for channel in lists:
            recipient_add(actor=a.admin, channel=channel, address=number, segments=[a.segment],
                          consent_source="form")

    person("+447700900561", 1, [a.sms])
    person("+447700900562", 3, [a.sms, second_list])
    assert cost("+447700900561") == cost("+447700900562")


def test_redaction_rechecks_holds_and_redacted_replies_inside_its_transaction(world):
    """A retention batch is read before its transaction: a hold placed in between, or a reply
    redacted in between (by an erasure), must still be left alone."""
    a = world.a
    held = make_reply(a, channel=a.sms, source="sms", author="+447700900571", text="Evidence")
    triage.reply_note_add(actor=a.liaison, reply=held, body="Kept for the inquiry")
    gone = make_reply(a, channel=a.sms, source="sms", author="+447700900572", text="Forget me")
    drafted = answers.answer_free_text(actor=a.supervisor, reply=gone, body="We will.")
    with time_machine.travel(T0, tick=False):
        assert retention._redact_ids([gone.pk], T0) == 1
    Reply.objects.filter(pk=held.pk).update(legal_hold=True)
    stamped = Message.objects.get(pk=drafted.message_id).updated_at
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert retention._redact_ids([held.pk, gone.pk], T0 + timedelta(days=1)) == 0
    held.refresh_from_db()
    gone.refresh_from_db()
    assert held.text == "Evidence" and held.redacted_at is None
    assert held.notes.get().body == "Kept for the inquiry"
    assert gone.redacted_at == T0 and Message.objects.get(pk=drafted.message_id).updated_at == stamped
