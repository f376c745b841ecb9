"""Audit rows hold no personal data of citizens (ids and labels only), so retention and erasure never
need to rewrite them: the hash chain is never broken for a lawful reason.

Every verb the code writes is listed here (read from the source, so a new verb fails this test until
it is placed): either it records a citizen's data being handled (a reply, an answer, a list entry) and
the scenario below creates it, with a citizen whose name, e-mail, phone number and words are
distinctive, or it is about staff and platform work and cannot reach a citizen's data. No audit row
may then contain any of the citizen's data, in any column.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.audit import FREE_TEXT_KEYS
from accounts.models import AuditEvent
from campaigns.models import ListRecipient
from campaigns.services import recipients
from engage.inbound import answers, contact_history, ingest, retention, triage
from engage.inbound.processing import reply_process
from engage.models import Reply, ReplyAnswer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NAME = "Zebedee Quxworth"
EMAIL = "zebedee.quxworth@citizen.example"
PHONE = "+447700900987"
LIST_PHONE = "+447700900654"
WORDS = "marmalade sandwich 7431 behind the bandstand"
MARKERS = [NAME, "Quxworth", EMAIL, "zebedee.quxworth", PHONE, PHONE.lstrip("+"), "7700900987", LIST_PHONE.lstrip("+"),
           "7700900654", "marmalade", "bandstand"]

# The verbs that record something done with a citizen's data: the scenario creates each one.
CITIZEN_VERBS = {
    "reply.processed", "reply.updated", "reply.reassigned", "reply.note_added", "reply.escalated",
    "reply.personal_data_viewed", "reply.exported", "reply.subject_access_exported", "reply.erased",
    "reply.redacted", "reply.answer_drafted", "reply.contact_history_viewed",
    "channel.recipient_added", "channel.recipients_imported", "channel.recipient_opted_out",
    "channel.recipients_exported",
}
# Citizen-data verbs the scenario does not reach yet (they need a platform to answer through; their
# summaries are ids and outcomes, see engage/inbound/answers.py). Listed so that the gap shows.
CITIZEN_VERBS_NOT_CREATED = {
    "reply.answer_queued", "reply.answer_sent", "reply.answer_held", "reply.answer_released", "reply.answer_cancelled",
    "reply.answer_adopted", "reply.answer_resolved", "reply.answer_failed", "reply.answer_unconfirmed",
    "reply.answer_transient",
    # the platform's answer to a look-up: its state, a fixed sentence (masked), a status and an id
    # (campaigns.publishing.reconcile.audit_summary; tests/engage/inbound/test_answer_reconcile.py)
    "reply.answer_looked_up",
}
_FSTRING_VERBS = {
    'f"delivery.{outcome}"': {"delivery.sent", "delivery.transient", "delivery.unconfirmed", "delivery.failed"},
    'f"reply.answer_{status}"': {"reply.answer_sent", "reply.answer_failed", "reply.answer_unconfirmed",
                                 "reply.answer_transient"},
    'f"message.{kind}"': set(),  # message.* verbs: staff work on messages
}
_VERB = re.compile(r"""verb=(f?"[^"]+")""")


def code_verbs() -> set[str]:
    """Every verb the application writes, read from its source."""
    found: set[str] = set()
    for package in ("accounts", "campaigns", "engage"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for literal in _VERB.findall(path.read_text()):
                if literal.startswith("f"):
                    found |= _FSTRING_VERBS.get(literal, {literal})
                else:
                    found.add(literal.strip('"'))
    return found


def test_every_verb_in_the_code_is_placed():
    verbs = code_verbs()
    assert len(verbs) > 50
    unplaced = sorted(v for v in verbs if v.startswith(("reply.", "channel.recipient"))
                      and v not in CITIZEN_VERBS | CITIZEN_VERBS_NOT_CREATED)
    assert unplaced == [], "a new verb handles a citizen's data: create it in the scenario below"
    unknown_fstrings = sorted(v for v in verbs if v.startswith('f"'))
    assert unknown_fstrings == [], "a new computed verb: list what it expands to in _FSTRING_VERBS"


def _citizen_writes(world) -> Reply:
    tw = world.a
    stored = ingest.reply_submit_public(team=tw.team, text=f"{NAME} here, {WORDS}. Call {PHONE} or write to {EMAIL}",
                                        nonce="pii-1", contact=EMAIL, name=NAME)
    reply_process(reply_id=stored.reply_id)
    by_phone = ingest.reply_store(team_id=tw.team.pk, channel=None, source="web", provider_id="pii-2",
                                  text=f"Again {WORDS}", author_handle=PHONE, author_name=NAME)
    reply_process(reply_id=by_phone.reply_id)
    reply = Reply.objects.get(pk=stored.reply_id)
    reply = triage.reply_update(actor=tw.liaison, reply=reply, status="triaged", assignee=tw.liaison,
                                category="question", urgent=True)
    triage.reply_note_add(actor=tw.liaison, reply=reply, body=f"Spoke to {NAME} on {PHONE} about the {WORDS}")
    triage.reply_escalate(actor=tw.liaison, reply=reply, reason=f"{NAME} ({PHONE}) is upset")
    triage.reply_reveal_personal_data(actor=tw.liaison, reply=reply, purpose=f"call {NAME} back on {PHONE}")
    by_sms = [ingest.reply_store(team_id=tw.team.pk, channel=tw.sms, source="sms", provider_id=f"pii-sms-{n}",
                                 text=f"Text {n}: {WORDS}", author_handle=PHONE, author_name=NAME,
                                 received_at=timezone.now() - timedelta(hours=3 - n)) for n in (1, 2)]
    contact_history.reply_contact_history(actor=tw.liaison, reply=Reply.objects.get(pk=by_sms[1].reply_id))
    triage.replies_export_csv(actor=tw.supervisor, replies=Reply.objects.filter(team=tw.team),
                              filters={"category": "question"})
    answers.answer_free_text(actor=tw.liaison, reply=Reply.objects.get(pk=by_phone.reply_id), body=f"Dear {NAME}, about the {WORDS}: thank you.")
    retention.replies_subject_access(actor=tw.admin, handle=EMAIL)
    recipient = recipients.recipient_add(actor=tw.admin, channel=tw.sms, address=LIST_PHONE, consent_source=NAME)
    recipients.recipients_import(actor=tw.admin, channel=tw.sms, text=f"{PHONE}\nnot an address {NAME}",
                                 consent_source=f"form signed by {NAME}")
    recipients.recipient_opt_out(actor=tw.admin, recipient=recipient, reason=f"{NAME} asked from {EMAIL}")
    recipients.recipients_export(actor=tw.admin, channel=tw.sms)
    retention.replies_erase(actor=tw.admin, handle=PHONE, reason=f"request from {EMAIL}, {PHONE}")
    retention.replies_apply_retention(now=timezone.now() + timedelta(days=3650))
    return reply


def test_no_audit_row_holds_a_citizens_personal_data(world):
    _citizen_writes(world)
    assert ListRecipient.objects.exists() and ReplyAnswer.objects.exists()
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    missing = sorted(CITIZEN_VERBS - verbs)
    assert missing == [], "the scenario no longer creates these verbs"
    leaks, typed = [], []
    for row in AuditEvent.objects.values():
        # What staff typed (a reason, a purpose, a consent source) is kept apart: see below.
        typed += [row["summary"].pop(key) for key in FREE_TEXT_KEYS if isinstance(row["summary"].get(key), str)]
        text = json.dumps(row, default=str, ensure_ascii=False).lower()
        leaks += [(row["id"], row["verb"], marker) for marker in MARKERS if marker.lower() in text]
    assert leaks == [], "\n".join(map(str, leaks))
    # Staff wrote the citizen's phone number and address into their reasons: masked on the way in.
    # (A name typed there cannot be recognised; the forms ask for a reference, docs/security.md.)
    assert typed and not [t for t in typed for m in (EMAIL, PHONE, "7700900987", "zebedee.quxworth") if m in t]
    assert any("[phone]" in t for t in typed)


def test_the_check_sees_a_leak(world):
    """The scan above finds a citizen's data wherever a verb would put it (so an empty result means something)."""
    from accounts.audit import audit_record

    audit_record(actor=None, verb="test.leak", target_id="1", summary={"note": f"for {NAME}"})
    text = json.dumps(list(AuditEvent.objects.filter(verb="test.leak").values()), default=str).lower()
    assert any(marker.lower() in text for marker in MARKERS)
