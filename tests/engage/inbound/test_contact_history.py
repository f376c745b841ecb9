"""A reply's contact history: the same person's earlier replies on the same channel (where the
platform identifies them) and the answers they were sent; the team's own only, never another force's;
every view that shows any is in the audit trail. And a pre-approved answer is previewed before it is
sent, exactly as the sender builds it, with the platform's "Did this answer help?" line."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from accounts.services import team_update_settings
from campaigns.services.channels import channel_create
from engage.inbound import answers
from engage.inbound.answer_sending import answer_preview
from engage.inbound.contact_history import reply_contact_history
from engage.inbound.identity import key_digest
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import AnswerTemplate, Reply
from tests.engage.inbound_helpers import CHAT_ID, make_reply, private_cache, telegram_channel
from tests.factories import make_other_force, member

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"/feedback/[^/\s]+/")


@pytest.fixture(autouse=True)
def _own_cache(settings):
    private_cache(settings)


def _ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def people(world):
    """On team A's Telegram channel: Jane three times (and once on the public form, which proves
    nothing), Bob once; Jane's twin replies in team B and in another force, on the same channel."""
    tw = world.a
    tg = telegram_channel(tw)
    first = make_reply(tw, channel=tg, author="@jane", text="Is the car park open on Saturday?", received_at=_ago(50))
    Reply.objects.filter(pk=first.pk).update(provider_id=f"{CHAT_ID}:4001")  # a Telegram chat and message id
    first.refresh_from_db()
    answers.reply_respond(actor=tw.liaison, reply=first, body="Yes, from 10am.")
    second = make_reply(tw, channel=tg, author="@Jane", text="My phone is 07700 900123, call me", received_at=_ago(5))
    bob = make_reply(tw, channel=tg, author="@bob", text="Bob asks about trams", received_at=_ago(4))
    web = make_reply(tw, author="@jane", text="Jane on the form", received_at=_ago(3))
    team_b = make_reply(world.b, channel=tg, author="@jane", team=world.b.team, text="Jane in team B",
                        received_at=_ago(2))
    _force, other = make_other_force()
    elsewhere = make_reply(other, channel=tg, author="@jane", team=other.team, text="Jane in force C",
                           received_at=_ago(2))
    current = make_reply(tw, channel=tg, author="@jane", text="Thanks! And the trains?", received_at=_ago(1))
    return {"tg": tg, "first": first, "second": second, "bob": bob, "web": web, "team_b": team_b,
            "elsewhere": elsewhere, "current": current}


def _shown(history) -> list[int]:
    return [e["reply"].pk for e in history.entries]


def test_the_history_is_the_same_person_on_the_same_channel_in_the_same_team(world, people):
    history = reply_contact_history(actor=world.a.liaison, reply=people["current"])
    assert history.identified
    assert _shown(history) == [people["second"].pk, people["first"].pk]  # newest first; handle case ignored
    first = history.entries[1]
    assert [a.body for a in first["answers"]] == ["Yes, from 10am."]
    assert "07700 900123" not in history.entries[0]["text"]  # masked, as in the inbox list


def test_only_earlier_replies_are_history(world, people):
    assert _shown(reply_contact_history(actor=world.a.liaison, reply=people["first"])) == []
    assert _shown(reply_contact_history(actor=world.a.liaison, reply=people["second"])) == [people["first"].pk]


def test_a_user_who_sees_both_teams_gets_only_the_replys_own_team(world, people):
    force_liaison = member(world.force, Role.LIAISON)
    assert Reply.objects.filter(pk=people["team_b"].pk).exists()
    history = reply_contact_history(actor=force_liaison, reply=people["current"])
    assert _shown(history) == [people["second"].pk, people["first"].pk]


def test_another_forces_replies_never_appear_even_to_their_own_users(world, people):
    for user in (world.a.liaison, world.a.supervisor, world.a.admin):
        shown = _shown(reply_contact_history(actor=user, reply=people["current"]))
        assert people["elsewhere"].pk not in shown and people["team_b"].pk not in shown
    _force, other = make_other_force("D")
    with pytest.raises(Exception, match="No such reply"):
        reply_contact_history(actor=other.liaison, reply=people["current"])


def test_the_restricted_queue_stays_restricted(world, people):
    Reply.objects.filter(pk=people["second"].pk).update(restricted=True)
    assert _shown(reply_contact_history(actor=world.a.liaison, reply=people["current"])) == [people["first"].pk]


def test_a_sender_the_platform_does_not_identify_has_no_history(world, people):
    history = reply_contact_history(actor=world.a.liaison, reply=people["web"])
    assert not history.identified and not history.entries
    assert not AuditEvent.objects.filter(verb="reply.contact_history_viewed").exists()


def test_every_view_of_a_history_is_audited_without_the_handle(world, people):
    client = Client()
    client.force_login(world.a.liaison)
    for _ in range(2):
        page = client.get(reverse("inbox:detail", args=[people["current"].pk]))
        assert page.status_code == 200
    records = AuditEvent.objects.filter(verb="reply.contact_history_viewed", actor=world.a.liaison)
    assert records.count() == 2
    record = records.first()
    assert record.target_id == str(people["current"].pk) and record.team_id == world.a.team.pk
    assert record.summary["replies"] == [people["second"].pk, people["first"].pk]
    assert record.summary["author"] == key_digest("jane") and "jane" not in str(record.summary).lower()
    # Bob's reply has no earlier one: nothing shown, nothing recorded.
    client.get(reverse("inbox:detail", args=[people["bob"].pk]))
    assert not AuditEvent.objects.filter(verb="reply.contact_history_viewed", target_id=str(people["bob"].pk)).exists()


def test_the_reply_page_shows_the_history_masked(world, people):
    client = Client()
    client.force_login(world.a.liaison)
    page = client.get(reverse("inbox:detail", args=[people["current"].pk])).content.decode()
    section = page[page.index('id="contact-history"'):page.index("</section>", page.index('id="contact-history"'))]
    assert "Is the car park open on Saturday?" in section and "Yes, from 10am." in section
    assert "07700 900123" not in section and "Bob asks" not in section and "Jane on the form" not in section
    assert "Jane in team B" not in page and "Jane in force C" not in page
    web = client.get(reverse("inbox:detail", args=[people["web"].pk])).content.decode()
    assert 'id="contact-history"' not in web


# --- the preview of a pre-approved answer ----------------------------------------------------------

def _thanks() -> AnswerTemplate:
    return AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language="en")


def _web_reply(world, n: int) -> Reply:
    stored = reply_store(team_id=world.a.team.pk, channel=None, source="web", provider_id=f"web-preview-{n}",
                         text="Where is the lost property office?", author_handle=f"person{n}@example.org")
    reply_process(reply_id=stored.reply_id)
    return Reply.objects.select_related("team", "channel").get(pk=stored.reply_id)


@pytest.mark.parametrize("feedback_on", [True, False])
def test_the_preview_is_exactly_what_the_sender_sends(world, feedback_on):
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": feedback_on})
    reply = _web_reply(world, 1 if feedback_on else 2)
    preview = answer_preview(reply=reply, template=_thanks())
    assert preview is not None and preview.question is feedback_on
    assert ("Did this answer help?" in preview.text) is feedback_on
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=_thanks())
    assert answer.status == "sent", answer.last_error
    sent = mail.outbox[-1].body
    # The same words and the same added line; only the link's signed code is made per answer.
    assert TOKEN.sub("/feedback/CODE/", sent).strip() == TOKEN.sub("/feedback/CODE/", preview.text).strip()


def test_the_reply_page_previews_the_chosen_template_before_sending(world):
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": True})
    reply = _web_reply(world, 3)
    client = Client()
    client.force_login(world.a.liaison)
    url = reverse("inbox:detail", args=[reply.pk])
    assert 'id="template-preview"' not in client.get(url).content.decode()
    page = client.get(url, {"preview": _thanks().pk}).content.decode()
    block = page[page.index('<div class="preview"', page.index('id="template-preview"')):]
    shown = html.unescape(block[block.index(">") + 1:block.index("</div>")])
    expected = answer_preview(reply=reply, template=_thanks()).text
    assert TOKEN.sub("/feedback/CODE/", shown) == TOKEN.sub("/feedback/CODE/", expected)
    assert _thanks().body.strip() in shown and "Did this answer help?" in shown
    chosen = f'<option value="{_thanks().pk}" selected>Thank you, we have read it (English)</option>'
    assert page.count(chosen) == 2  # the preview's choice, and the answer form has it chosen too
    assert not mail.outbox  # a preview sends nothing
    for junk in ("x", "-1", "99999999999999999999", "<script>"):
        assert client.get(url, {"preview": junk}).status_code == 200
