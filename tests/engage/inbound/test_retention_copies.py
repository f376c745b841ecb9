"""Retention covers every copy of a citizen's words and details (issue 12, section 8).

One reply is given every kind of copy the product makes (notes, an escalation, answers, the
message a free-text answer becomes with its versions and a reviewer's comment, staff
notifications, a list entry with the same number), then redacted or erased. Afterwards EVERY
text and JSON column of EVERY table is scanned for the person's words and number: a copy added
to the product later, and not covered by retention, makes this test fail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

from campaigns.models import ListRecipient, Message, MessageStatus
from campaigns.services import workflow
from campaigns.services.recipients import recipient_add
from engage.inbound import answers, retention, triage
from engage.models import AnswerStatus, ReplyAnswer
from tests.engage.inbound_helpers import make_reply

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORD = "quokka7391"  # the citizen's own word, in everything they wrote
NUMBER = "+447700900777"
MARKERS = (WORD, "7700900777", "7700 900777")


def copies() -> set[str]:
    """Every (table.column) holding any marker, over every text and JSON column of every model."""
    found = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                continue
            rows = model._default_manager.annotate(_as_text=Cast(field.attname, models.TextField()))
            for marker in MARKERS:
                if rows.filter(_as_text__icontains=marker).exists():
                    found.add(f"{model._meta.label}.{field.name}")
    return found


def a_reply_with_every_copy(world):
    tw = world.a
    reply = make_reply(tw, channel=tw.sms, source="sms", author=NUMBER,
                       text=f"I am {WORD.title()}, my number is 07700 900777. Where do I collect my bag?")
    reply.author_name = f"Jo {WORD}"
    reply.save(update_fields=["author_name"])
    triage.reply_note_add(actor=tw.liaison, reply=reply, body=f"{WORD} called back from 07700 900777")
    triage.reply_escalate(actor=tw.liaison, reply=reply, reason=f"{WORD} wants to speak to a supervisor")
    proposed = answers.answer_free_text(actor=tw.liaison, reply=reply, body=f"Hello {WORD}, we are looking.")
    drafted = answers.answer_free_text(actor=tw.supervisor, reply=reply,
                                       body=f"Dear {WORD}, your bag is at the front desk. Ring 07700 900777 back.")
    workflow.message_request_changes(actor=tw.supervisor2, message=drafted.message,
                                     comment=f"Do not repeat {WORD}'s number in the answer.")
    recipient_add(actor=tw.admin, channel=tw.sms, address="07700 900777", language="en",
                  consent_source="signed up at the desk")
    assert proposed.status == AnswerStatus.AWAITING_APPROVAL and drafted.message is not None
    return reply, drafted


def test_subject_access_includes_answers_notes_and_list_entries(world):
    reply, _drafted = a_reply_with_every_copy(world)
    export = retention.replies_subject_access(actor=world.a.admin, handle="07700 900777")
    [row] = export["replies"]
    assert row["id"] == reply.pk and WORD in row["text"].lower()
    assert {WORD in a["text"] for a in row["answers"]} == {True}
    assert len(row["answers"]) == 2
    assert len(row["notes"]) == 2 and all(WORD in n["text"] for n in row["notes"])
    [listed] = export["lists"]
    assert listed["address"] == NUMBER and listed["channel"] == world.a.sms.name


def test_erasure_leaves_no_copy_anywhere(world):
    reply, drafted = a_reply_with_every_copy(world)
    before = copies()
    # The scan sees the copies (so an empty result afterwards means something).
    assert {"engage.Reply.text", "engage.Reply.raw_payload", "engage.Reply.author_handle", "engage.ReplyNote.body",
            "engage.ReplyAnswer.body", "campaigns.Message.body", "campaigns.MessageVersion.snapshot",
            "campaigns.Comment.body", "accounts.Notification.text"} <= before
    result = retention.replies_erase(actor=world.a.admin, handle="+44 7700 900777", reason="Request 7")
    assert result == {"erased": 1, "held": 0, "list_entries": 1}
    assert copies() == set()
    assert not ListRecipient.objects.filter(channel=world.a.sms, address_digest__isnull=False).exclude(
        consent_source="test list").exists()
    # What was not sent is not sent now: the answers are cancelled and the message withdrawn.
    assert set(ReplyAnswer.objects.filter(reply=reply).values_list("status", flat=True)) == {AnswerStatus.CANCELLED}
    assert Message.objects.get(pk=drafted.message_id).status == MessageStatus.WITHDRAWN


def test_retention_leaves_no_copy_anywhere(world):
    with time_machine.travel(T0, tick=False):
        a_reply_with_every_copy(world)
    assert copies()
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        retention.replies_apply_retention()
    # The list entry is a subscription with its own consent, not a copy of the reply: it stays
    # (it is encrypted, so the scan cannot see it) until the person opts out or is erased.
    assert copies() == set()
