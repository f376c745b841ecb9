"""The public form cannot be used to send messages (issue 12, section 5).

Automatic answers go only back to a sender the platform proves (Telegram, Mastodon, an SMS through
the verified Twilio webhook); an address or number typed into the public form is contacted only
when a person decides to. Every answer channel has an hourly cap: past it, automatic answers are
held for a person, the team's supervisors and administrators are alerted, and it is audited.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AuditEvent, Notification
from campaigns.models import Channel
from campaigns.services.channels import channel_create
from engage.inbound import answer_sending, answers
from engage.inbound.ingest import reply_store, reply_submit_public
from engage.inbound.processing import reply_process
from engage.models import AnswerKind, AnswerStatus, AnswerTemplate, Reply, ReplyAnswer
from tests.engage.inbound_helpers import CHAT_ID, TG_SECRET, process_all
from tests.factories import ensure_shipped_answers

pytestmark = pytest.mark.django_db

URGENT = "Help, a man is bleeding badly near gate 4, please come"


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def sandbox_channel(world, sandbox, kind: str, **extra) -> Channel:
    config, secrets = sandbox.config_for(kind)
    webhook_secret = {"secret_token": TG_SECRET} if kind == "telegram" else {}  # each kind's own schema
    return channel_create(actor=world.a.admin, team=world.a.team, kind=kind, name=f"{kind} sandbox",
                          config={**config, **secrets, "read_timeout": 1.0, **webhook_secret, **extra})


def urgent_template(world) -> AnswerTemplate:
    from engage.inbound import policies

    return policies.answer_template_for(team_id=world.a.team.pk, purpose="urgent", language="en")


@pytest.mark.parametrize("contact", ["+447700900123", "victim@example.org"])
def test_an_urgent_public_form_message_never_contacts_the_typed_address_by_itself(world, sandbox, contact):
    Channel.objects.filter(pk=world.a.sms.pk).update(is_active=False)
    sandbox_channel(world, sandbox, "sms")
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    stored = reply_submit_public(team=world.a.team, text=URGENT, nonce="a" * 32, contact=contact)
    process_all()
    process_all()
    reply = Reply.objects.get(pk=stored.reply_id)
    assert reply.urgent  # it is urgent, and the people on duty are told at once...
    assert Notification.objects.filter(kind="urgent_reply", user=world.a.liaison).exists()
    # ...but nothing is sent to the number or address someone typed.
    assert not ReplyAnswer.objects.filter(reply=reply).exists()
    assert sandbox.posts("sms") == [] and mail.outbox == []
    summary = AuditEvent.objects.get(verb="reply.processed", target_id=str(reply.pk)).summary
    assert summary["urgent_answer"] is None and "sender not proven" in summary["urgent_answer_withheld"]
    # A liaison officer decides to answer: then, and only then, it goes out.
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=urgent_template(world))
    assert answer.status == AnswerStatus.SENT and answer.created_by == world.a.liaison, answer.last_error
    assert len(sandbox.posts("sms")) + len(mail.outbox) == 1


def test_the_public_form_page_does_not_text_the_number_given(world, sandbox, settings):
    """The same through the page itself, as an attacker would use it."""
    Channel.objects.filter(pk=world.a.sms.pk).update(is_active=False)
    sandbox_channel(world, sandbox, "sms")
    news_client = Client()
    from tests.factories import make_approved

    message = make_approved(world.a)
    from campaigns import publishing
    from tests.campaigns.test_publishing import send_due

    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    send_due()
    page = news_client.get(f"/news/{message.pk}/reply/")
    assert page.status_code == 200, page.status_code
    nonce = re.search(rb'name="nonce" value="([0-9a-f]+)"', page.content).group(1).decode()
    sent = news_client.post(f"/news/{message.pk}/reply/", {"text": URGENT, "contact": "+447700900123",
                                                           "nonce": nonce})
    assert sent.status_code == 200
    process_all()
    process_all()
    assert Reply.objects.get().urgent
    assert not ReplyAnswer.objects.exists() and sandbox.posts("sms") == []


def test_a_proven_sender_still_gets_the_urgent_answer(world, sandbox):
    channel = sandbox_channel(world, sandbox, "telegram")
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                         provider_id=f"{CHAT_ID}:80", text=URGENT, author_handle="@sam")
    reply_process(reply_id=stored.reply_id)
    answer = ReplyAnswer.objects.get(reply_id=stored.reply_id)
    assert answer.kind == AnswerKind.AUTO and answer_sending.answer_send(answer_id=answer.pk) == "sent"
    assert len(sandbox.posts("telegram")) == 1


def _urgent_telegram(world, channel, n: int) -> Reply:
    stored = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                         provider_id=f"{CHAT_ID}:{100 + n}", text=URGENT, author_handle=f"@person{n}")
    reply_process(reply_id=stored.reply_id)
    return Reply.objects.get(pk=stored.reply_id)


def test_past_the_hourly_cap_automatic_answers_wait_for_a_person_and_supervisors_are_told(world, sandbox,
                                                                                         settings):
    settings.ENGAGE_ANSWER_HOURLY_CAP = {"": 100, "telegram": 2}
    channel = sandbox_channel(world, sandbox, "telegram")
    replies = [_urgent_telegram(world, channel, n) for n in range(4)]
    outcomes = [answer_sending.answer_send(answer_id=ReplyAnswer.objects.get(reply=r).pk) for r in replies]
    assert outcomes == ["sent", "sent", "held", "held"]
    assert len(sandbox.posts("telegram")) == 2
    held = list(ReplyAnswer.objects.filter(status=AnswerStatus.HELD).order_by("id"))
    assert len(held) == 2 and all("2 answers this hour" in a.last_error for a in held)
    assert process_all()["sent"] == 0  # held is not pending: the sweeper leaves it for a person
    # The team's supervisors and administrators are alerted, once for the hour; both are audited.
    alerted = set(Notification.objects.filter(kind="answer_cap_reached").values_list("user_id", flat=True))
    assert alerted == {world.a.supervisor.pk, world.a.supervisor2.pk, world.a.admin.pk}
    assert AuditEvent.objects.filter(verb="channel.answer_cap_reached", target_id=str(channel.pk)).count() == 1
    assert AuditEvent.objects.filter(verb="reply.answer_held").count() == 2
    # Visible in the inbox, with the choice to send it or not.
    browser = Client()
    browser.force_login(world.a.liaison)
    page = browser.get(f"/desk/inbox/{held[0].reply_id}/")
    assert page.status_code == 200 and b"release-held" in page.content and b"Held" in page.content
    # A person decides: sent (past the cap, since a person chose it) or dropped; both audited.
    response = browser.post(f"/desk/inbox/{held[0].reply_id}/release-held/", {"answer": held[0].pk})
    assert response.status_code == 302
    process_all()
    held[0].refresh_from_db()
    assert held[0].status == AnswerStatus.SENT and held[0].created_by == world.a.liaison
    answers.answer_release_held(actor=world.a.liaison, answer=held[1], send=False)
    held[1].refresh_from_db()
    assert held[1].status == AnswerStatus.CANCELLED
    assert len(sandbox.posts("telegram")) == 3
    assert AuditEvent.objects.filter(verb__in=["reply.answer_released", "reply.answer_dropped"]).count() == 2
    # Another team's liaison cannot release a held answer (it is not theirs to see).
    from core.errors import NotFound

    with pytest.raises(NotFound):
        answers.answer_release_held(actor=world.b.liaison, answer=held[0], send=True)


def test_a_persons_answer_goes_out_past_the_cap_and_counts(world, sandbox, settings):
    settings.ENGAGE_ANSWER_HOURLY_CAP = {"": 1}
    channel = sandbox_channel(world, sandbox, "telegram")
    thanks = AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language="en")
    first = reply_store(team_id=world.a.team.pk, channel=channel, source="telegram",
                        provider_id=f"{CHAT_ID}:90", text="When do gates open?", author_handle="@a")
    reply_process(reply_id=first.reply_id)
    answer = answers.reply_respond(actor=world.a.liaison, reply=Reply.objects.get(pk=first.reply_id),
                                   template=thanks)
    assert answer.status == AnswerStatus.SENT and answer.channel_id == channel.pk
    urgent = _urgent_telegram(world, channel, 9)
    assert answer_sending.answer_send(answer_id=ReplyAnswer.objects.get(reply=urgent).pk) == "held"


def test_the_cap_setting_is_parsed_and_checked():
    from django.core.exceptions import ImproperlyConfigured

    from engage.settings import _hourly_caps

    assert _hourly_caps("60,sms=30") == {"": 60, "sms": 30}
    assert _hourly_caps("sms=5") == {"": 60, "sms": 5}
    for bad in ("sms=0", "lots", "sms=-1"):
        with pytest.raises(ImproperlyConfigured):
            _hourly_caps(bad)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_never_pass_the_cap_together(world, sandbox, settings):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    ensure_shipped_answers()  # an earlier transactional test's flush may have emptied them
    settings.ENGAGE_ANSWER_HOURLY_CAP = {"": 100, "telegram": 2}
    channel = sandbox_channel(world, sandbox, "telegram")
    ids = [ReplyAnswer.objects.get(reply=_urgent_telegram(world, channel, n)).pk for n in range(6)]
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []
    errors: list[Exception] = []

    def send(answer_id: int) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            outcomes.append(answer_sending.answer_send(answer_id=answer_id))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=send, args=(answer_id,)) for answer_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["held"] * 4 + ["sent"] * 2
    assert len(sandbox.posts("telegram")) == 2


def test_the_api_releases_or_drops_a_held_answer(world, sandbox, settings, api):
    settings.ENGAGE_ANSWER_HOURLY_CAP = {"": 1}
    channel = sandbox_channel(world, sandbox, "telegram")
    replies = [_urgent_telegram(world, channel, n) for n in range(3)]
    assert [answer_sending.answer_send(answer_id=ReplyAnswer.objects.get(reply=r).pk) for r in replies] == [
        "sent", "held", "held"]
    held = [ReplyAnswer.objects.get(reply=r) for r in replies[1:]]
    url = "/api/v1/replies/{}/answers/{}/release/"
    detail = api(world.a.liaison).get(f"/api/v1/replies/{held[0].reply_id}/")
    assert "held" in detail.content.decode()
    assert api(world.b.liaison).post(url.format(held[0].reply_id, held[0].pk), {"send": True},
                                     format="json").status_code == 404
    assert api(world.a.liaison).post(url.format(held[0].reply_id, held[0].pk), {}, format="json").status_code == 400
    sent = api(world.a.liaison).post(url.format(held[0].reply_id, held[0].pk), {"send": True}, format="json")
    assert sent.status_code == 200, sent.content
    dropped = api(world.a.supervisor).post(url.format(held[1].reply_id, held[1].pk), {"send": False}, format="json")
    assert dropped.status_code == 200 and dropped.json()["status"] == "cancelled"
    again = api(world.a.supervisor).post(url.format(held[1].reply_id, held[1].pk), {"send": True}, format="json")
    assert again.status_code == 409
    process_all()
    assert ReplyAnswer.objects.get(pk=held[0].pk).status == AnswerStatus.SENT
    assert len(sandbox.posts("telegram")) == 2
