"""Triage through the services and the inbox pages: routing, clocks, permissions, audit, escaping."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Notification
from accounts.services import team_update_settings
from core.errors import NotAllowed, NotFound
from engage.inbound import policies, triage
from engage.inbound.processing import reply_process
from engage.models import ClassificationCorrection, Reply, ReplyStatus
from tests.engage.inbound_helpers import (
    assert_nothing_executable,
    make_reply,
    partner_channel,
    partner_item,
    post_partner,
    post_telegram,
    process_all,
    telegram_channel,
    telegram_update,
    xss_text,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sla_clock_per_category_with_team_overrides(world):
    now = timezone.now()
    question = make_reply(world.a, text="Where is the nearest exit?", received_at=now)
    assert question.category == "question" and question.sla_due_at == now + timedelta(minutes=60)
    policies.sla_policy_set(actor=world.a.admin, team=world.a.team, category="question", minutes=15)
    faster = make_reply(world.a, text="Where can I find the lost property office?", received_at=now)
    assert faster.sla_due_at == now + timedelta(minutes=15)
    complaint = make_reply(world.a, text="This is disgraceful, nobody helped us and we waited for hours.",
                           received_at=now)
    assert complaint.sla_due_at == now + timedelta(days=1)
    spam = make_reply(world.a, text="Earn $500 a day with crypto, click here bit.ly/xyz", received_at=now)
    assert spam.category == "spam" and spam.sla_due_at is None
    with pytest.raises(NotAllowed):
        policies.sla_policy_set(actor=world.a.liaison, team=world.a.team, category="question", minutes=1)


def test_restricted_routing_follows_the_team_setting(world):
    tip_text = "I saw a suspicious man hiding bags behind the stadium, the number plate was AB12 CDE"
    before = make_reply(world.a, text=tip_text)
    assert before.category == "information" and before.restricted is False
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"restricted_queue": True})
    after = make_reply(world.a, text=tip_text)
    assert after.restricted is True
    team_update_settings(team=world.a.team, actor=world.a.admin,
                         changes={"restricted_categories": ["crime_report"]})
    narrower = make_reply(world.a, text=tip_text)
    assert narrower.restricted is False


def test_corrections_are_kept_and_change_the_clock(world):
    reply = make_reply(world.a, text="This is disgraceful, nobody helped us and we waited for hours.")
    assert reply.category == "complaint"
    updated = triage.reply_update(actor=world.a.liaison, reply=reply, category="question", urgent=True)
    assert updated.category == "question" and updated.urgent
    assert updated.sla_due_at == updated.received_at + timedelta(minutes=5)
    rows = list(ClassificationCorrection.objects.filter(reply=reply).values_list("field", "old_value", "new_value",
                                                                                  "corrected_by"))
    assert sorted(rows) == [("category", "complaint", "question", world.a.liaison.pk),
                            ("urgent", "false", "true", world.a.liaison.pk)]
    event = AuditEvent.objects.filter(verb="reply.updated", target_id=str(reply.pk)).latest("id")
    assert event.summary["category"] == {"from": "complaint", "to": "question"}


def test_triage_rights(world):
    reply = make_reply(world.a)
    with pytest.raises(NotFound):
        triage.reply_update(actor=world.b.liaison, reply=reply, status=ReplyStatus.CLOSED)
    with pytest.raises(NotFound):
        triage.reply_note_add(actor=world.a.officer, reply=reply, body="hi")
    with pytest.raises(NotAllowed):
        triage.reply_update(actor=world.a.admin, reply=reply, status=ReplyStatus.CLOSED)
    with pytest.raises(NotAllowed):
        triage.reply_update(actor=world.a.liaison, reply=reply, legal_hold=True)
    assert triage.reply_update(actor=world.a.supervisor, reply=reply, legal_hold=True).legal_hold
    # Unassigning puts an assigned reply back to triaged; reassignment is on the record each time.
    triage.reply_update(actor=world.a.liaison, reply=reply, assignee=world.a.liaison)
    triage.reply_update(actor=world.a.liaison, reply=reply, assignee=world.a.supervisor)
    back = triage.reply_update(actor=world.a.liaison, reply=reply, assignee=None)
    assert back.status == ReplyStatus.TRIAGED and back.assignee is None
    moves = [e.summary for e in AuditEvent.objects.filter(verb="reply.reassigned").order_by("id")]
    assert moves == [{"from": None, "to": world.a.liaison.pk},
                     {"from": world.a.liaison.pk, "to": world.a.supervisor.pk},
                     {"from": world.a.supervisor.pk, "to": None}]


def test_escalation_notifies_the_supervisors(world):
    reply = make_reply(world.a)
    triage.reply_escalate(actor=world.a.liaison, reply=reply, reason="Press enquiry")
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.ESCALATED
    notified = set(Notification.objects.filter(kind="reply_escalated").values_list("user_id", flat=True))
    assert notified == {world.a.supervisor.pk, world.a.supervisor2.pk}


def test_the_inbox_page_lists_masks_and_highlights(world):
    late = make_reply(world.a, text="Where is gate B? Ring 07700 900123", received_at=timezone.now() - timedelta(hours=2))
    urgent = make_reply(world.a, text="A man has a knife near the bar", received_at=timezone.now())
    client = signed_in(world.a.liaison)
    page = client.get("/desk/inbox/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(f'id="reply-{urgent.pk}"') < html.index(f'id="reply-{late.pk}"')
    assert "07700 900123" not in html and "[phone]" in html
    assert 'class="urgent' in html and "Overdue" in html
    assert "Inbox" in html  # the navigation item
    assert signed_in(world.a.officer).get("/desk/inbox/").status_code == 403
    assert signed_in(world.b.liaison).get(f"/desk/inbox/{late.pk}/").status_code == 404


def test_the_detail_page_reveal_is_audited(world):
    reply = make_reply(world.a, text="Ring me on 07700 900123 please", author="+447700900123")
    client = signed_in(world.a.liaison)
    masked = client.get(f"/desk/inbox/{reply.pk}/").content.decode()
    assert "07700 900123" not in masked and "+447700900123" not in masked
    assert not AuditEvent.objects.filter(verb="reply.personal_data_viewed").exists()
    shown = client.get(f"/desk/inbox/{reply.pk}/?reveal=1").content.decode()
    assert "07700 900123" in shown and "+447700900123" in shown
    assert AuditEvent.objects.filter(verb="reply.personal_data_viewed", actor=world.a.liaison).count() == 1


def test_page_actions_go_through_the_services(world):
    reply = make_reply(world.a)
    client = signed_in(world.a.liaison)
    assert client.post(f"/desk/inbox/{reply.pk}/assign-me/").status_code == 302
    client.post(f"/desk/inbox/{reply.pk}/note/", {"body": "Called the venue"})
    client.post(f"/desk/inbox/{reply.pk}/correct/", {"category": "rumour", "sentiment": "neutral"})
    other = make_reply(world.a, text="Thanks!")
    client.post("/desk/inbox/bulk/", {"ids": [other.pk], "action": "close"})
    reply.refresh_from_db()
    other.refresh_from_db()
    assert reply.assignee == world.a.liaison and reply.status == ReplyStatus.ASSIGNED
    assert reply.notes.get().body == "Called the venue" and reply.category == "rumour"
    assert other.status == ReplyStatus.CLOSED
    assert AuditEvent.objects.filter(verb__startswith="reply.", actor=world.a.liaison).count() >= 4


def test_ten_thousand_characters_of_xss_through_the_webhooks_render_inert(world):
    payload = xss_text(10_000)
    assert len(payload) == 10_000
    client = Client()
    telegram = telegram_channel(world.a)
    partner = partner_channel(world.a)
    assert post_telegram(client, telegram, telegram_update(text=payload, username="x<script>y")).status_code == 200
    assert post_partner(client, partner, json.dumps(partner_item(text=payload,
                                                                 author="<img src=x onerror=alert(1)>")).encode()
                        ).status_code == 200
    process_all()
    replies = list(Reply.objects.all())
    assert len(replies) == 2
    for reply in replies:
        assert reply.raw_text == payload  # kept as received, until retention
        for dangerous in ("<script", "<img", "<svg", "<iframe", "onerror", "onload", "javascript:alert"):
            assert dangerous not in reply.text.lower()  # sanitised on the way in
        assert "<img" not in reply.author_handle and "<script" not in reply.author_handle
    liaison = signed_in(world.a.liaison)
    listing = liaison.get("/desk/inbox/").content.decode()
    assert_nothing_executable(listing)
    for reply in replies:
        for url in (f"/desk/inbox/{reply.pk}/", f"/desk/inbox/{reply.pk}/?reveal=1"):
            page = liaison.get(url)
            assert page.status_code == 200
            assert_nothing_executable(page.content.decode())
    revealed = liaison.get(f"/desk/inbox/{replies[0].pk}/?reveal=1").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in revealed  # the raw text is shown, escaped


def test_processing_is_idempotent_under_a_second_run(world):
    reply = make_reply(world.a, text="Someone collapsed and is not breathing", process=False)
    assert reply_process(reply_id=reply.pk) is True
    assert reply_process(reply_id=reply.pk) is False
    assert AuditEvent.objects.filter(verb="reply.processed", target_id=str(reply.pk)).count() == 1
    assert Notification.objects.filter(kind="urgent_reply").count() == 1


@pytest.mark.parametrize("html", [
    "<p><img src=x onerror=alert(1)></p>", "<div><svg><circle/></svg></div>", '<a href=" javascript:alert(1)">x</a>',
    "<p>hi</p><script>alert(1)</script>", "<details open ontoggle=alert(1)>",
])
def test_the_inertness_check_itself_catches_live_markup(html):
    with pytest.raises(AssertionError):
        assert_nothing_executable(f"<html><body>{html}</body></html>")
    assert_nothing_executable("<html><body><p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=</p></body></html>")


def test_the_rights_page_exports_and_erases_for_administrators(world):
    make_reply(world.a, text="Ring me on 07700 900123", author="07700 900123")
    assert signed_in(world.a.liaison).get("/desk/inbox/rights/").status_code == 403
    admin = signed_in(world.a.admin)
    assert admin.get("/desk/inbox/rights/").status_code == 200
    export = admin.post("/desk/inbox/rights/", {"handle": "+447700900123", "action": "export"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    assert json.loads(export.content)["count"] == 1
    unconfirmed = admin.post("/desk/inbox/rights/", {"handle": "+447700900123", "action": "erase"})
    assert unconfirmed.status_code == 200 and Reply.objects.filter(redacted_at__isnull=True).count() == 1
    admin.post("/desk/inbox/rights/", {"handle": "+447700900123", "action": "erase", "confirm": "on",
                                       "reason": "SAR 7"})
    assert Reply.objects.get().redacted_at is not None
    assert [e.verb for e in AuditEvent.objects.filter(verb__in=["reply.subject_access_exported", "reply.erased"])
            .order_by("id")] == ["reply.subject_access_exported", "reply.erased"]


def test_the_settings_page_edits_through_the_services(world):
    supervisor = signed_in(world.a.supervisor)
    page = supervisor.get("/desk/inbox/settings/")
    assert page.status_code == 200 and "Call 999 or 112 now" in page.content.decode()
    supervisor.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "template", "title": "Gates",
                                              "language": "en", "purpose": "general",
                                              "body": "Gates open at 6pm <b>sharp</b>."})
    template = world.a.team.answer_templates.get(title="Gates")
    version = template.versions.get()
    assert version.body == "Gates open at 6pm sharp." and version.author == world.a.supervisor
    assert template.approved_version is None  # written, not approved: not offered yet
    supervisor.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "template-approve",
                                              "version": version.pk, "content_hash": version.content_hash})
    template.refresh_from_db()
    assert template.approved_version is None  # the author cannot approve their own words
    second = signed_in(world.a.supervisor2)
    assert "Approve this version" in second.get("/desk/inbox/settings/").content.decode()
    second.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "template-approve",
                                          "version": version.pk, "content_hash": version.content_hash})
    template.refresh_from_db()
    assert template.body == "Gates open at 6pm sharp." and template.approved_by == world.a.supervisor2
    assert template.approved_version == version
    supervisor.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "sla", "category": "question",
                                              "minutes": 10})
    assert policies.sla_minutes(team_id=world.a.team.pk, category="question", urgent=False) == 60  # admins only
    admin = signed_in(world.a.admin)
    admin.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "sla", "category": "question",
                                         "minutes": 10})
    admin.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "rule", "language": "en",
                                         "category": "rumour", "pattern": r"\bchemtrails?\b", "weight": 3})
    admin.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "rule", "language": "en",
                                         "category": "rumour", "pattern": "(unclosed", "weight": 1})
    assert policies.sla_minutes(team_id=world.a.team.pk, category="question", urgent=False) == 10
    assert make_reply(world.a, text="The planes are spraying chemtrails over the march").category == "rumour"
    assert AuditEvent.objects.filter(verb__in=["answer_template.saved", "sla_policy.set",
                                               "category_rule.added"]).count() == 3
    admin.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "routing", "restricted_queue": "on"})
    world.a.team.refresh_from_db()
    assert world.a.team.settings["restricted_queue"] is True and "public_contact" not in world.a.team.settings
    supervisor.post("/desk/inbox/settings/", {"team": world.a.team.pk, "kind": "routing"})
    world.a.team.refresh_from_db()
    assert world.a.team.settings["restricted_queue"] is True  # administrators only
    assert signed_in(world.a.liaison).get("/desk/inbox/settings/").status_code == 200  # read-only for them
    assert signed_in(world.a.liaison).post("/desk/inbox/settings/", {"team": world.a.team.pk,
                                                                     "kind": "routing"}).status_code == 403
