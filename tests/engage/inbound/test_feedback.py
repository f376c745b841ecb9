"""The trust signal: "Did this answer help?" asked after an answer, voted once, stored anonymously."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.db import models
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Team
from accounts.services import team_update_settings
from campaigns.services.channels import channel_create
from campaigns.services.segments import segment_create
from engage.inbound import answers, feedback
from engage.inbound.ingest import reply_store
from engage.inbound.processing import reply_process
from engage.models import AnswerFeedback, AnswerKind, AnswerTemplate, Reply, ReplyAnswer
from tests.engage.inbound_helpers import private_cache
from tests.factories import make_message

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/feedback/([^/\s]+)/(\?lang=[a-z]+)?")


@pytest.fixture(autouse=True)
def _own_cache(settings):
    private_cache(settings)


@pytest.fixture
def email(world):
    return channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                          config={"from_email": "community@police.example"})


def switch(world, on: bool = True) -> None:
    team_update_settings(team=world.a.team, actor=world.a.admin, changes={"answer_feedback": on})


def thanks(language: str = "en") -> AnswerTemplate:
    return AnswerTemplate.objects.get(team=None, title="Thank you, we have read it", language=language)


def answered(world, n: int = 1, *, text: str = "Where is the lost property office?", language: str = "en",
             message=None) -> tuple[ReplyAnswer, str]:
    """A web-form reply answered by email from the shipped template: (the answer, the email's body)."""
    stored = reply_store(team_id=world.a.team.pk, channel=None, source="web", provider_id=f"web-fb-{n}",
                         text=text, author_handle=f"person{n}@example.org",
                         message_id=message.pk if message is not None else None)
    reply_process(reply_id=stored.reply_id)
    reply = Reply.objects.get(pk=stored.reply_id)
    sent_before = len(mail.outbox)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks(language))
    assert answer.status == "sent", answer.last_error
    assert len(mail.outbox) == sent_before + 1
    return answer, mail.outbox[-1].body


def link_of(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    parts = urlsplit(match.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def vote(client: Client, url: str, choice: str):
    """As a browser: the page, then one of its two buttons (with the form's CSRF token)."""
    page = client.get(url)
    return client.post(url, {"csrfmiddlewaretoken": csrf_of(page.content.decode()), "helpful": choice})


# --- the token ------------------------------------------------------------------------------------

def test_the_token_round_trips_and_refuses_tampering_other_salts_and_odd_payloads():
    token = feedback.feedback_token(answer_id=42, channel_kind="email")
    assert feedback.feedback_token_read(token) == (42, "email")
    assert len(token) < 60  # short enough for an SMS
    value, stamp, signature = token.split(":")
    ours = signing.TimestampSigner(salt=feedback.SALT)
    for bad in ("43.e:" + stamp + ":" + signature, f"{value}:{stamp}:{signature[:-1]}x", token + "a",
                signing.TimestampSigner(salt="another.purpose").sign("42.e"), ours.sign("42"), ours.sign("0.e"),
                ours.sign("-1.s"), ours.sign("42.e.extra"), ours.sign("<b>.e"), signing.dumps([42, "e"], salt=feedback.SALT),
                "", "x" * 5000, "<script>alert(1)</script>", "ümlaut:abc:def", "a:b", ":::"):
        with pytest.raises(feedback.FeedbackTokenInvalid):
            feedback.feedback_token_read(bad)


def test_the_token_expires_after_30_days(monkeypatch):
    token = feedback.feedback_token(answer_id=7, channel_kind="sms")
    real = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: real + 29 * 86400)
    assert feedback.feedback_token_read(token) == (7, "sms")
    monkeypatch.setattr(signing.time, "time", lambda: real + 31 * 86400)
    with pytest.raises(feedback.FeedbackTokenExpired):
        feedback.feedback_token_read(token)


# --- asking ---------------------------------------------------------------------------------------

def test_the_answer_carries_the_link_only_when_the_team_has_it_on(world, email):
    answer, body = answered(world, 1)
    assert "/feedback/" not in body and not LINK.search(body)
    assert body.strip() == thanks().body.strip()
    answer.refresh_from_db()
    assert answer.feedback_requested is False

    switch(world, True)
    answer, body = answered(world, 2)
    assert body.startswith(thanks().body)  # the approved words first, unchanged
    assert "Did this answer help?" in body
    assert feedback.feedback_token_read(token_of(body))[0] == answer.pk
    answer.refresh_from_db()
    assert answer.feedback_requested is True and answer.feedback_given is False

    switch(world, False)
    _answer, body = answered(world, 3)
    assert "/feedback/" not in body


def test_the_question_is_in_the_answers_language_where_we_have_the_words(world, email):
    switch(world, True)
    _answer, body = answered(world, 1, text="هل الطريق إلى الملعب مغلق؟", language="ar")
    assert "هل ساعدك هذا الرد؟" in body
    assert LINK.search(body).group(2) == "?lang=ar"
    page = Client().get(link_of(body)).content.decode()
    assert 'lang="ar" dir="rtl"' in page and "نعم، ساعدني" in page


def test_the_question_has_words_in_every_language_of_the_public_pages():
    from engage.public.i18n import UI_LANGUAGES

    for language in UI_LANGUAGES:
        line = feedback.feedback_line(answer_id=7, channel_kind="email", language=language)
        assert LINK.search(line) and line.endswith("/" if language == "en" else f"/?lang={language}"), language
        assert ("Did this answer help?" in line) == (language == "en"), language
        assert ("?lang=" in line) == (language != "en"), language
    assert feedback.feedback_line(answer_id=7, channel_kind="sms", language="fa-IR").startswith(
        "آیا این پاسخ کمکتان کرد؟")
    assert "Did this answer help?" in feedback.feedback_line(answer_id=7, channel_kind="sms", language="de")


def test_where_it_is_asked_and_where_not(world):
    team_id = world.a.team.pk
    template_answer = ReplyAnswer(pk=1, kind=AnswerKind.TEMPLATE)
    assert feedback.feedback_suffix(answer=template_answer, team_id=team_id, channel_kind="email", language="en") == ""
    Team.objects.filter(pk=world.force.pk).update(settings={"answer_feedback": True})  # on the force: units follow
    assert feedback.feedback_enabled(team_id) and feedback.feedback_enabled(world.b.team.pk)
    for kind in ("email", "sms", "telegram"):
        assert "/feedback/" in feedback.feedback_suffix(answer=template_answer, team_id=team_id, channel_kind=kind,
                                                        language="en")
    for kind in ("mastodon", "webhook", "x", "public"):  # public posts, or a partner's system
        assert feedback.feedback_suffix(answer=template_answer, team_id=team_id, channel_kind=kind,
                                        language="en") == ""
    urgent = ReplyAnswer(pk=2, kind=AnswerKind.AUTO)  # "call 999 now" is not a moment for a survey
    assert feedback.feedback_suffix(answer=urgent, team_id=team_id, channel_kind="sms", language="en") == ""
    switch(world, False)  # a unit's own setting wins over the force's
    assert not feedback.feedback_enabled(team_id) and feedback.feedback_enabled(world.b.team.pk)


def test_a_telegram_answer_carries_the_link(world, sandbox):
    from tests.engage.inbound.test_answers import sandbox_channel, telegram_reply

    sandbox.reset()
    switch(world, True)
    reply = telegram_reply(world, sandbox_channel(world, sandbox, "telegram"), message_id=91)
    answer = answers.reply_respond(actor=world.a.liaison, reply=reply, template=thanks())
    assert answer.status == "sent"
    text = sandbox.posts("telegram")[-1].fields["text"]
    assert text.startswith(thanks().body) and feedback.feedback_token_read(token_of(text)) == (answer.pk, "telegram")


def test_an_sms_answer_too_long_with_the_question_goes_out_without_it(world, sandbox):
    """The question never stops an answer: on an SMS channel of one segment, the approved words fit and
    the question would not; the words go out alone, and no question is recorded as asked."""
    from tests.engage.inbound.test_answers import sandbox_channel

    sandbox.reset()
    switch(world, True)
    sms = sandbox_channel(world, sandbox, "sms", max_segments=1)
    stored = reply_store(team_id=world.a.team.pk, channel=sms, source="sms", provider_id="SM-feedback-1",
                         text="Is the road open?", author_handle="+447700900123", author_name="",
                         received_at=timezone.now())
    reply_process(reply_id=stored.reply_id)
    body = thanks().body
    assert len(body) <= 160 < len(body) + 40
    answer = answers.reply_respond(actor=world.a.liaison, reply=Reply.objects.get(pk=stored.reply_id),
                                   template=thanks())
    assert answer.status == "sent" and not answer.feedback_requested
    assert [p.fields.get("Body") for p in sandbox.posts("sms")] == [body]


# --- the page and the vote ------------------------------------------------------------------------

def test_a_get_never_votes(world, email):
    switch(world, True)
    answer, body = answered(world)
    client = Client()
    for _ in range(3):  # a link previewer, a mail scanner, the person
        page = client.get(link_of(body))
        assert page.status_code == 200
    html = page.content.decode()
    assert 'name="helpful" value="yes"' in html and 'name="helpful" value="no"' in html
    assert "csrfmiddlewaretoken" in html and 'method="post"' in html
    assert 'lang="en" dir="ltr"' in html
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "same-origin"
    assert not AnswerFeedback.objects.exists()
    answer.refresh_from_db()
    assert answer.feedback_given is False


def test_a_post_votes_once_and_a_second_is_thanked_not_counted(world, email):
    switch(world, True)
    answer, body = answered(world, message=make_message(world.a, segments=[world.a.segment]))
    url = link_of(body)
    client = Client(enforce_csrf_checks=True)
    audit_before = AuditEvent.objects.count()
    csrf = csrf_of(client.get(url).content.decode())
    first = client.post(url, {"csrfmiddlewaretoken": csrf, "helpful": "no"})
    assert first.status_code == 200 and "We have your answer" in first.content.decode()
    second = client.post(url, {"csrfmiddlewaretoken": csrf, "helpful": "yes"})  # a second tab, a double click
    assert second.status_code == 200 and "we already have your answer" in second.content.decode()
    assert "we already have your answer" in Client().get(url).content.decode()
    assert list(AnswerFeedback.objects.values_list("helpful", flat=True)) == [False]
    answer.refresh_from_db()
    assert answer.feedback_given is True
    assert AuditEvent.objects.count() == audit_before  # no audit row naming the answer: it would link the vote
    # Without the CSRF token the POST is refused.
    assert Client(enforce_csrf_checks=True).post(url, {"helpful": "yes"}).status_code == 403


def test_the_stored_vote_has_no_link_to_the_reply_the_answer_or_the_person(world, email):
    fields = {f.name for f in AnswerFeedback._meta.get_fields()}
    assert fields == {"id", "helpful", "created_at", "team", "event", "campaign", "segments", "channel",
                      "channel_kind", "language", "phase"}
    related = {f.related_model._meta.label for f in AnswerFeedback._meta.get_fields() if f.is_relation}
    assert related == {"accounts.Team", "campaigns.Event", "campaigns.Campaign", "campaigns.Segment",
                       "campaigns.Channel"}
    assert isinstance(AnswerFeedback._meta.pk, models.UUIDField)  # row order says nothing about vote order

    switch(world, True)
    message = make_message(world.a, segments=[world.a.segment])
    answer, body = answered(world, text="Is the stadium road closed?", message=message)
    assert feedback.feedback_record(token=token_of(body), helpful=True) is True
    row = AnswerFeedback.objects.get()
    assert (row.team_id, row.event_id, row.campaign_id, row.channel_id) == (
        world.a.team.pk, world.a.event.pk, world.a.campaign.pk, None)
    assert list(row.segments.values_list("pk", flat=True)) == [world.a.segment.pk]
    assert (row.channel_kind, row.language, row.phase) == ("email", "en", "before")
    assert row.created_at.minute == 0 and row.created_at.second == 0 and row.created_at.microsecond == 0
    stored = {str(v) for v in AnswerFeedback.objects.values().get().values()}
    for identifying in (str(answer.pk), str(answer.reply_id), "person1@example.org", str(message.pk)):
        assert identifying not in stored or identifying in {str(world.a.team.pk), str(world.a.event.pk),
                                                            str(world.a.campaign.pk)}
    assert feedback.feedback_record(token=token_of(body), helpful=False) is False
    assert AnswerFeedback.objects.count() == 1


def test_a_script_in_the_link_is_never_reflected(world):
    for path in ("/feedback/%3Cscript%3Ealert(1)%3C%2Fscript%3E/", "/feedback/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/"):
        for response in (Client().get(path), Client().post(path, {"helpful": "yes"})):
            assert response.status_code in (400, 404)  # with a "/" inside it is not even our URL
            html = response.content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert" not in html


@pytest.mark.parametrize("path", [
    "/feedback/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/",
    "/feedback/" + "A" * 20000 + "/",
    "/feedback/MQ:1abc:" + "x" * 43 + "/",
    "/feedback/%00%ff/",
])
def test_hostile_links_get_a_friendly_400(world, path):
    client = Client()
    for response in (client.get(path), client.post(path, {"helpful": "yes"})):
        assert response.status_code == 400
        html = response.content.decode()
        assert "This link does not work" in html and "<script>alert" not in html
    assert not AnswerFeedback.objects.exists()


def test_wrong_methods_odd_choices_gone_answers_and_expired_links(world, email, monkeypatch):
    switch(world, True)
    answer, body = answered(world)
    url = link_of(body)
    client = Client()
    for method in ("put", "delete", "patch", "head"):
        assert getattr(client, method)(url).status_code == 405
    for choice in ("maybe", "", "<b>yes</b>"):
        response = client.post(url, {"helpful": choice})
        assert response.status_code == 400 and "Please choose yes or no." in response.content.decode()
    assert not AnswerFeedback.objects.exists()

    real = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: real + 31 * 86400)
    for response in (client.get(url), client.post(url, {"helpful": "yes"})):
        assert response.status_code == 400 and "This link has expired" in response.content.decode()
    monkeypatch.setattr(signing.time, "time", lambda: real)

    ReplyAnswer.objects.filter(pk=answer.pk).delete()
    for response in (client.get(url), client.post(url, {"helpful": "yes"})):
        assert response.status_code == 404 and "We can no longer find this answer" in response.content.decode()
    assert not AnswerFeedback.objects.exists()


def test_votes_are_rate_limited_per_address(world, email):
    switch(world, True)
    _answer, body = answered(world)
    url = link_of(body)
    client = Client()
    statuses = [client.post(url, {"helpful": "maybe"}).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert "Please wait a moment" in client.post(url, {"helpful": "yes"}).content.decode()
    assert not AnswerFeedback.objects.exists()


# --- the figures ----------------------------------------------------------------------------------

def test_the_helped_rate_per_segment_against_a_hand_computed_case(world, email, api):
    """Segment A is targeted by messages 1 and 2, segment B by message 2 only; message 3 by none.

    votes: message 1: yes, yes, no;  message 2: yes, no;  message 3: no;  plus one answer asked, not voted.
    segment A: 3 yes, 2 no -> 0.6;  segment B: 1 yes, 1 no -> 0.5;  overall: 3 yes, 3 no -> 0.5 of 6 votes, 7 asked.
    """
    switch(world, True)
    seg_a = world.a.segment
    seg_b = segment_create(actor=world.a.officer, team=world.a.team, name="Families A", languages=["en"],
                           channels=["sms"], needs=[])
    m1 = make_message(world.a, segments=[seg_a])
    m2 = make_message(world.a, segments=[seg_a, seg_b])
    m3 = make_message(world.a)
    plan = [(m1, True), (m1, True), (m1, False), (m2, True), (m2, False), (m3, False), (m1, None)]
    for n, (message, helpful) in enumerate(plan, start=1):
        _answer, body = answered(world, n, message=message)
        if helpful is not None:
            assert feedback.feedback_record(token=token_of(body), helpful=helpful)

    data = api(world.a.supervisor).get("/api/v1/metrics/trust/").json()
    h = data["helpfulness"]
    assert h["overall"] == {"yes": 3, "no": 3, "votes": 6, "rate": 0.5, "few_votes": True, "asked": 7,
                            "answered_share": round(6 / 7, 4)}
    by_name = {row["name"]: row for row in h["segments"]}
    assert set(by_name) == {seg_a.name, seg_b.name}
    assert {k: by_name[seg_a.name][k] for k in ("segment", "yes", "no", "votes", "rate")} == {
        "segment": seg_a.pk, "yes": 3, "no": 2, "votes": 5, "rate": 0.6}
    assert {k: by_name[seg_b.name][k] for k in ("yes", "no", "votes", "rate")} == {"yes": 1, "no": 1, "votes": 2,
                                                                                   "rate": 0.5}
    # The scope's filters apply: segment B only, and another team sees none of it.
    only_b = api(world.a.supervisor).get(f"/api/v1/metrics/trust/?segment={seg_b.pk}").json()["helpfulness"]
    assert (only_b["overall"]["yes"], only_b["overall"]["no"]) == (1, 1)
    other = api(world.b.supervisor).get("/api/v1/metrics/trust/").json()["helpfulness"]
    assert other["overall"]["votes"] == 0 and other["segments"] == []
    # The other figures of the contract are still there.
    for key in ("response_rate", "sentiment", "by_category", "filters"):
        assert key in data

    client = Client()
    client.force_login(world.a.supervisor)
    html = client.get("/desk/dashboard/").content.decode()
    assert "Did our answers help?" in html
    assert "3 of 6 people who answered “Did this answer help?” said yes (50%)" in html
    assert seg_b.name in html and "60%" in html


def test_votes_are_deleted_after_the_longest_retention_period(world):
    from engage.inbound.retention import replies_apply_retention

    old = AnswerFeedback.objects.create(helpful=True, team=world.a.team)
    AnswerFeedback.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=366))
    recent = AnswerFeedback.objects.create(helpful=False, team=world.a.team)
    AnswerFeedback.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=364))
    assert replies_apply_retention().get("feedback") == 1
    assert list(AnswerFeedback.objects.values_list("pk", flat=True)) == [recent.pk]
