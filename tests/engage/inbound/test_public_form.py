"""The public form: CSRF, rate limit, honeypot, a plain statement, and what happens next."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from campaigns.models import Delivery
from campaigns.services.channels import channel_create
from engage.models import AnswerTemplate, Reply
from tests.engage.inbound_helpers import assert_nothing_executable, private_cache, process_all, xss_text
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    private_cache(settings)


@pytest.fixture
def contact_team(world):
    from accounts.services import force_contact_route_set
    from tests.factories import UserFactory

    operator = UserFactory(email="operator@engage.test", is_superuser=True)
    force_contact_route_set(actor=operator, force=world.force, team=world.a.team)  # operators route the form
    return world.a.team


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', html).group(1)


def submit(client: Client, url: str = "/contact/", **fields):
    page = client.get(url)
    data = {"nonce": nonce_of(page.content.decode()), "text": "Hello", "contact": "", "name": "", "website": ""}
    data.update(fields)
    return client.post(url, data)


def test_the_form_says_plainly_what_is_kept_and_where_emergencies_go(world, contact_team):
    html = Client().get("/contact/").content.decode()
    for needle in ("999", "112", "101", "30 days", "365 days", "How we use your messages", "csrfmiddlewaretoken",
                   "not watched around the clock"):
        assert needle in html, needle
    assert 'class="honeypot"' in html
    how = Client().get("/how-we-use-your-messages/").content.decode()
    assert "We do not watch people" in how and "restricted" in how and "180 days" in how


def test_a_message_is_stored_as_a_web_reply_once(world, contact_team):
    client = Client()
    page = client.get("/contact/").content.decode()
    nonce = nonce_of(page)
    data = {"nonce": nonce, "text": "Where can I get water near the march?", "contact": "jo@example.org",
            "name": "Jo", "website": ""}
    first = client.post("/contact/", data)
    assert first.status_code == 200 and "Thank you" in first.content.decode()
    assert client.post("/contact/", data).status_code == 200  # a refresh of the same form
    reply = Reply.objects.get()
    assert (reply.source, reply.channel_id, reply.team_id) == ("web", None, contact_team.pk)
    assert client.get("/contact/")["Cache-Control"].count("no-store") == 1
    assert (reply.author_handle, reply.author_name) == ("jo@example.org", "Jo")
    assert reply.provider_id.startswith(f"web-{nonce}-")
    assert "no-store" in first["Cache-Control"]  # never from a shared cache
    # The same form id with other words is another message, not a duplicate.
    client.post("/contact/", {**data, "text": "And where are the toilets?"})
    assert Reply.objects.count() == 2
    assert reply.raw_payload["form"]["text"] == "Where can I get water near the march?"
    assert "remote" not in str(reply.raw_payload) and "127.0.0.1" not in str(reply.raw_payload)


def test_csrf_is_enforced(world, contact_team):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/contact/", {"text": "hi", "nonce": "a" * 32})
    assert response.status_code == 403
    assert not Reply.objects.exists()


def test_the_honeypot_catches_bots_quietly(world, contact_team):
    response = submit(Client(), text="Buy followers now", website="http://spam.example")
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert not Reply.objects.exists()


def test_the_rate_limit_per_address(world, contact_team):
    client = Client()
    codes = [submit(client, text=f"Message {i}").status_code for i in range(6)]
    assert codes == [200, 200, 200, 200, 200, 429]
    assert Reply.objects.count() == 5
    throttled = submit(client, text="Another")
    assert throttled.status_code == 429 and "try again" in throttled.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.7")
    assert submit(other, text="From another address").status_code == 200


def test_invalid_input_is_refused_with_the_form(world, contact_team):
    assert submit(Client(), text="").status_code == 400
    bad_contact = submit(Client(), text="Hi", contact="not a contact")
    assert bad_contact.status_code == 400 and "email address or a phone number" in bad_contact.content.decode()
    assert not Reply.objects.exists()


def test_replying_under_a_published_update_links_the_reply(world):
    message = make_approved(world.a)
    Delivery.objects.create(message=message, channel=world.a.public, idempotency_key="pub-1",
                            due_at=message.created_at, status="sent")
    client = Client()
    response = submit(client, f"/news/{message.pk}/reply/", text="Will the trains run late?")
    assert response.status_code == 200
    reply = Reply.objects.get()
    assert reply.message_id == message.pk and reply.team_id == message.team_id
    draft = make_approved(world.a)  # approved but never published
    assert client.get(f"/news/{draft.pk}/reply/").status_code == 404
    assert client.get("/news/999999/reply/").status_code == 404


def test_ten_thousand_characters_of_xss_through_the_form_render_inert(world, contact_team):
    payload = xss_text(10_000)
    response = submit(Client(), text=payload, name="<script>alert(1)</script>")
    assert response.status_code == 200
    assert_nothing_executable(response.content.decode())
    process_all()
    reply = Reply.objects.get()
    assert reply.raw_text == payload and "<script" not in reply.text and "onerror" not in reply.text
    liaison = Client()
    liaison.force_login(world.a.liaison)
    for url in ("/desk/inbox/", f"/desk/inbox/{reply.pk}/", f"/desk/inbox/{reply.pk}/?reveal=1"):
        page = liaison.get(url)
        assert page.status_code == 200
        assert_nothing_executable(page.content.decode())


def test_done_when_an_arabic_message_is_answered_and_timed(world, contact_team):
    """A citizen writes in Arabic through the form, the reply lands in the liaison inbox classified,
    a liaison officer answers from a template, and the response time is in the metrics."""
    channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Email answers",
                   config={"from_email": "community@police.example"})
    response = submit(Client(), text="متى يبدأ الاحتفال؟ وأين أقرب محطة قطار؟", contact="sara@example.org")
    assert response.status_code == 200
    assert process_all()["processed"] == 1
    api = APIClient()
    api.force_authenticate(world.a.liaison)
    rows = api.get("/api/v1/replies/", {"language": "ar"}).json()["results"]
    assert len(rows) == 1 and rows[0]["category"] == "question" and rows[0]["source"] == "web"
    template = AnswerTemplate.objects.get(team=None, language="ar", purpose="general")
    sent = api.post(f"/api/v1/replies/{rows[0]['id']}/respond/", {"template": template.pk}, format="json")
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    assert mail.outbox[-1].to == ["sara@example.org"]
    supervisor = APIClient()
    supervisor.force_authenticate(world.a.supervisor)
    metrics = supervisor.get("/api/v1/metrics/trust/").json()
    assert metrics["answered"] == 1 and metrics["response_rate"] == 1.0
    assert metrics["time_to_first_response"]["median_seconds"] is not None
    assert metrics["time_to_first_response"]["median_seconds"] >= 0
