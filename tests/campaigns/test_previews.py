"""Per-platform previews (campaigns/previews.py, templates/campaigns/_previews.html): each preview is
what the platform receives, hashtags and links included; the Hashtags field refuses what is not a
hashtag; counts are said in plain words."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.forms import MessageForm, clean_hashtag_field
from campaigns.previews import count_label, message_previews, with_isolated_hashtags
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.publishing.send import build_payload
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from core.errors import InvalidInput
from platforms import get_adapter
from platforms.counting import count_for
from platforms.hashtags import hashtag_problem, with_hashtags
from tests.campaigns.test_publishing import channel, schedule_now

pytestmark = pytest.mark.django_db

BODY = "Roads near the stadium are busy after the match. Please use the train. #DerbyDay"
ARABIC = "الطرق مزدحمة بعد المباراة. يرجى استخدام القطار."
RECEIVED = {"x": "text", "mastodon": "status", "telegram": "text", "facebook": "message", "sms": "Body",
            "webhook": "text"}


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def _approved(world, channels, *, hashtags=("DerbyDay", "NorthshireSafe"), body=BODY):
    message = message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body=body,
                                              channels=channels, hashtags=list(hashtags), title="Roads after the match")
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=ARABIC)
    message = workflow.message_submit(actor=world.a.officer, message=message)
    return workflow.message_approve(actor=world.a.supervisor, message=message)


def _preview_texts(message) -> dict[tuple[str, str], str]:
    return {(p.language, c.channel.kind): c.post.text for p in message_previews(message) for c in p.channels}


def test_each_preview_is_exactly_what_the_platform_receives(world, sandbox):
    channels = {kind: channel(world, sandbox, kind) for kind in RECEIVED}
    message = _approved(world, [*channels.values(), world.a.public])
    previews = _preview_texts(message)
    schedule_now(world, message)
    outcomes = sorted(delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due())
    assert outcomes == ["sent"] * 13 + ["skipped"]  # the SMS list has nobody who reads Arabic
    for kind, field in RECEIVED.items():
        received = {record.fields[field] for record in sandbox.posts(kind)}
        sent = {previews[("en", kind)]} if kind == "sms" else {previews[("en", kind)], previews[("ar", kind)]}
        assert received == sent, kind
    # The hashtags go out on the platforms where people follow them, once each, after the text ...
    for kind in ("x", "mastodon", "telegram", "facebook"):
        assert previews[("en", kind)] == f"{BODY}\n\n#NorthshireSafe", kind  # #DerbyDay is in the text already
        assert previews[("ar", kind)] == f"{ARABIC}\n\n#DerbyDay #NorthshireSafe", kind
    # ... and not in a text message or to a partner, which get the text as written.
    assert previews[("en", "sms")] == BODY and previews[("en", "webhook")] == BODY
    assert previews[("en", "public")] == BODY


def test_the_preview_shows_the_link_title_and_parts_the_post_carries(world, sandbox):
    telegram, facebook, sms = (channel(world, sandbox, kind) for kind in ("telegram", "facebook", "sms"))
    webhook = channel(world, sandbox, "webhook")
    long_body = "Roads near the stadium are busy after the match, so please use the train. " * 3
    message = _approved(world, [telegram, facebook, sms, webhook, world.a.public], body=long_body.strip())
    original = message_previews(message)[0]
    link = f"/news/{message.pk}/"
    by_kind = {c.channel.kind: c for c in original.channels}
    assert by_kind["telegram"].post.link.endswith(link) and by_kind["facebook"].post.link.endswith(link)
    assert by_kind["webhook"].post.subject == "Roads after the match"
    parts = by_kind["sms"].post.parts
    assert len(parts) == 2 and "".join(parts) == long_body.strip()  # split where the network splits it
    assert by_kind["sms"].label == f"{len(long_body.strip())} of 459 characters, 2 text messages"
    # The rendered page says so plainly, and never in the platform's units.
    client = Client()
    client.force_login(world.a.supervisor)
    page = client.get(reverse("campaigns:message", kwargs={"pk": message.pk})).content.decode()
    assert "2 text messages" in page and "Text message 2" in page and link in page
    for jargon in ("UTF-16", "septets", "weighted", "code units"):
        assert jargon not in page, jargon
    review = client.get(reverse("campaigns:review")).content.decode()
    assert "Nothing is waiting" in review  # approved already; the queue's previews are tested below


def test_the_email_preview_is_the_subject_and_body_the_adapter_builds(world, sandbox):
    email = channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Bulletin",
                           config={"unsubscribe_url": "https://example.org/unsubscribe?to={recipient}"})
    message = _approved(world, [email])
    preview = next(c for c in message_previews(message)[0].channels if c.channel.kind == "email")
    schedule_now(world, message)
    delivery = message.deliveries.get(channel=email, variant=None)
    payload = build_payload(delivery)
    adapter = get_adapter("email", config=email.config, secrets={})
    built = adapter.build_message(payload, recipient="{recipient}", message_id="<m@engage>")
    assert preview.post.subject == built.subject == "Roads after the match"
    assert preview.post.text == built.body.replace("%7Brecipient%7D", "{recipient}")
    assert f"/news/{message.pk}/" in preview.post.text and "#NorthshireSafe" not in preview.post.text


def test_the_review_queue_shows_each_messages_previews(world, sandbox):
    x = channel(world, sandbox, "x")
    message = message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body=BODY,
                                              channels=[x], hashtags=["DerbyDay", "NorthshireSafe"])
    workflow.message_submit(actor=world.a.officer, message=message)
    client = Client()
    client.force_login(world.a.supervisor)
    page = client.get(reverse("campaigns:review")).content.decode()
    expected = with_isolated_hashtags(f"{BODY}\n\n#NorthshireSafe")
    assert expected in page and "<bdi>#NorthshireSafe</bdi>" in page
    used = count_for("x", f"{BODY}\n\n#NorthshireSafe").used
    assert f"{used} of 280 characters" in page


def test_the_editor_previews_every_ticked_channel_with_the_hashtags(world, sandbox):
    x = channel(world, sandbox, "x")
    client = Client()
    client.force_login(world.a.officer)
    page = client.post(reverse("campaigns:message_new"), {
        "campaign": world.a.campaign.pk, "body": "Avoid the stadium.", "language": "ar", "urgency": "routine",
        "channels": [x.pk], "hashtags": "#DerbyDay #<script>",
    }).content.decode()
    assert "“#&lt;script&gt;” is not a hashtag" in page and "<script>" not in page.split("<main", 1)[1].split(
        "</main>")[0].replace('<script src=', "")
    assert f'data-channel="{x.pk}"' in page and "Avoid the stadium.\n\n<bdi>#DerbyDay</bdi>" in page
    [area] = re.findall(r'<textarea[^>]*name="body"[^>]*>', page)
    assert 'dir="rtl"' in area and 'lang="ar"' in area  # Arabic: right to left


@pytest.mark.parametrize("raw,reason", [
    ("#<script>", "is not a hashtag"),
    ("#<script>alert(1)</script>", "is not a hashtag"),
    ("#Derby-Day", "is not a hashtag"),
    ("#Derby.Day", "is not a hashtag"),
    ("#Derby Day", "has no # in front"),
    ("DerbyDay", "has no # in front"),
    ("#2025", "has no letter"),
    ("#", "is only a #"),
    ("#" + "a" * 51, "is too long"),
    ("#Derby\u200bDay", "is not a hashtag"),  # a zero-width space
    ("#javascript:alert(1)", "is not a hashtag"),
    ("#\u0301accent", "is not a hashtag"),  # starts with a combining mark
])
def test_the_hashtags_field_refuses_what_is_not_a_hashtag(raw, reason):
    with pytest.raises(Exception) as refused:
        clean_hashtag_field(raw)
    assert reason in " ".join(refused.value.messages)
    form = MessageForm({"campaign": 1, "body": "Hi", "language": "en", "urgency": "routine", "hashtags": raw},
                       campaigns=[], channels=[], segments=[])
    assert not form.is_valid() and "hashtags" in form.errors


@pytest.mark.parametrize("raw,names", [
    ("#DerbyDay", ["DerbyDay"]),
    ("#DerbyDay, #derbyday #Derby_2025", ["DerbyDay", "Derby_2025"]),
    ("#مباراة_الديربي #Łódź #日本", ["مباراة_الديربي", "Łódź", "日本"]),  # letters of any script
])
def test_the_hashtags_field_keeps_real_hashtags_once(raw, names):
    assert clean_hashtag_field(raw) == names


def test_the_service_refuses_junk_hashtags_from_the_api_too(world):
    with pytest.raises(InvalidInput):
        message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body="Hi",
                                        hashtags=["<script>"])
    made = message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body="Hi",
                                           hashtags=["#DerbyDay", "derbyday"])
    assert made.hashtags == ["DerbyDay"]


def test_hashtags_are_added_once_and_only_when_missing():
    assert with_hashtags("Use the train.", ["DerbyDay"]) == "Use the train.\n\n#DerbyDay"
    assert with_hashtags("Use the train. #derbyday", ["DerbyDay"]) == "Use the train. #derbyday"
    assert with_hashtags("Use the train. #DerbyDay2", ["DerbyDay"]) == "Use the train. #DerbyDay2\n\n#DerbyDay"
    assert with_hashtags("Hi  \n", ["A", "a", "B"]) == "Hi\n\n#A #B"
    assert with_hashtags("", ["A"]) == "#A"
    assert hashtag_problem("Derby_2025") is None and hashtag_problem("_") is None


def test_counts_speak_plainly():
    assert count_label(count_for("x", "a" * 148)) == "148 of 280 characters"
    sms = count_for("sms", "’" + "a" * 147)  # one curly apostrophe: each part holds 67
    assert count_label(sms) == "148 of 201 characters, 3 text messages"
    assert count_label(count_for("sms", "Hi")) == "2 of 459 characters, 1 text message"
    assert count_label(count_for("email", "Hi")) == "2 characters"


def test_the_checker_and_the_counters_speak_welsh(world, sandbox):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.a.officer)
    findings = api.post("/api/v1/checks/", {"body": "Avoid the area!!! Go!! Call 07700 900123.", "channels": ["x"]},
                        format="json", HTTP_ACCEPT_LANGUAGE="cy").json()
    [runs] = [f for f in findings if f["code"] == "tone.exclamations"]
    assert runs["message"].startswith("2 rhediad o ebychnodau") and "exclamation" not in runs["message"]
    x = channel(world, sandbox, "x")
    message = message_services.message_create(actor=world.a.officer, campaign=world.a.campaign, body=BODY,
                                              channels=[x], hashtags=["DerbyDay"])
    world.a.officer.desk_language = "cy"
    world.a.officer.save(update_fields=["desk_language"])
    client = Client()
    client.force_login(world.a.officer)
    page = client.get(reverse("campaigns:message", kwargs={"pk": message.pk})).content.decode()
    assert f"{count_for('x', BODY).used} o 280 nod" in page and " of 280 characters" not in page
