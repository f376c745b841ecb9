"""Invariant 9: a variant reaches only the recipients it was written for (issue 12, section 7).

Sent in-process to the local Twilio sandbox, which is asked afterwards what each number got.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from campaigns import publishing
from campaigns.models import DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from campaigns.services.recipients import recipient_add, recipient_opt_out
from campaigns.services.segments import segment_create
from campaigns.services.targeting import Person, Text, choose
from tests.factories import make_message

pytestmark = pytest.mark.django_db

EN = "Roads near the stadium close at 14:00. Please use the train. #DerbyDay"
FA = "جاده‌های اطراف ورزشگاه از ساعت ۱۴ بسته می‌شوند. لطفاً از قطار استفاده کنید."
AR = "تغلق الطرق المحيطة بالملعب عند الساعة 14:00. يرجى استخدام القطار."
EN_FANS = "Away fans: your coaches park at Station Road from 13:00. #DerbyDay"

NUMBERS = {"en": ["+447700900101", "+447700900102"], "fa": ["+447700900201", "+447700900202"],
           "ar": ["+447700900301", "+447700900302"]}


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def sms_channel(world, sandbox, name="SMS list"):
    config, secrets = sandbox.config_for("sms")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="sms", name=name,
                          config={**config, **secrets, "read_timeout": 2.0})


def approve_and_send(world, message) -> list[str]:
    workflow.message_submit(actor=world.a.officer, message=message)
    workflow.message_approve(actor=world.a.supervisor, message=message)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


def texts_by_number(sandbox) -> dict[str, list[str]]:
    got: dict[str, list[str]] = defaultdict(list)
    for post in sandbox.posts("sms"):
        got[post.data["to"]].append(post.data["body"])
    return dict(got)


def trilingual(world, channel, **kwargs):
    message = make_message(world.a, body=EN, channels=[channel], **kwargs)
    message_services.variant_add(actor=world.a.officer, message=message, language="fa", body=FA)
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=AR)
    return message


def test_each_recipient_gets_exactly_one_text_in_their_language(world, sandbox):
    channel = sms_channel(world, sandbox)
    for language, numbers in NUMBERS.items():
        for number in numbers:
            recipient_add(actor=world.a.admin, channel=channel, address=number, language=language,
                          consent_source="sign-up form")
    outcomes = approve_and_send(world, trilingual(world, channel))
    assert sorted(outcomes) == ["sent", "sent", "sent"]
    expected = {"en": EN, "fa": FA, "ar": AR}
    got = texts_by_number(sandbox)
    assert got == {number: [expected[language]] for language, numbers in NUMBERS.items() for number in numbers}


def test_a_segment_variant_reaches_only_that_segment(world, sandbox):
    channel = sms_channel(world, sandbox)
    fans = segment_create(actor=world.a.officer, team=world.a.team, name="Away fans", languages=["en"],
                          channels=["sms"], needs=[])
    in_segment = recipient_add(actor=world.a.admin, channel=channel, address="+447700900111", language="en",
                               segments=[fans.pk], consent_source="club list")
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900112", language="en",
                  consent_source="sign-up form")
    farsi_fan = recipient_add(actor=world.a.admin, channel=channel, address="+447700900113", language="fa",
                              segments=[fans.pk], consent_source="club list")
    message = trilingual(world, channel)
    message_services.variant_add(actor=world.a.officer, message=message, language="en", body=EN_FANS, segment=fans)
    assert sorted(approve_and_send(world, message)) == ["sent", "sent", "sent", "skipped"]  # nobody reads ar
    got = texts_by_number(sandbox)
    assert got == {"+447700900111": [EN_FANS], "+447700900112": [EN], "+447700900113": [FA]}
    assert in_segment.pk and farsi_fan.pk


def test_a_message_for_segments_goes_only_to_their_members(world, sandbox):
    channel = sms_channel(world, sandbox)
    fans = segment_create(actor=world.a.officer, team=world.a.team, name="Away fans", languages=["en"],
                          channels=["sms"], needs=[])
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900121", segments=[fans.pk],
                  consent_source="club list")
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900122", consent_source="sign-up form")
    message = make_message(world.a, body=EN, channels=[channel], segments=[fans])
    assert approve_and_send(world, message) == ["sent"]
    assert texts_by_number(sandbox) == {"+447700900121": [EN]}


def test_opted_out_recipients_get_nothing(world, sandbox):
    channel = sms_channel(world, sandbox)
    stays = recipient_add(actor=world.a.admin, channel=channel, address="07700 900131", consent_source="form")
    leaves = recipient_add(actor=world.a.admin, channel=channel, address="+447700900132", language="fa",
                           consent_source="form")
    recipient_opt_out(actor=world.a.admin, recipient=leaves)
    message = trilingual(world, channel)
    outcomes = approve_and_send(world, message)
    assert sorted(outcomes) == ["sent", "skipped", "skipped"]
    assert texts_by_number(sandbox) == {"+447700900131": [EN]}
    assert stays.pk
    skipped = message.deliveries.filter(status=DeliveryStatus.SKIPPED)
    assert {d.variant.language for d in skipped} == {"fa", "ar"}


def test_nothing_goes_to_an_address_list_in_the_channel_settings(world, sandbox):
    """The old way (config.recipients) is refused, and a channel without recipients sends nothing."""
    from core.errors import InvalidInput

    config, secrets = sandbox.config_for("sms")
    with pytest.raises(InvalidInput):
        channel_create(actor=world.a.admin, team=world.a.team, kind="sms", name="Old list",
                       config={**config, **secrets, "recipients": ["+447700900141"]})
    channel = sms_channel(world, sandbox)
    assert approve_and_send(world, make_message(world.a, body=EN, channels=[channel])) == ["skipped"]
    assert sandbox.posts("sms") == []


def test_the_rule_is_deterministic_and_never_crosses_a_target():
    original = Text(variant=None, language="en", segment=None, format="standard")
    fa = Text(variant=2, language="fa", segment=None, format="standard")
    fa_fans = Text(variant=3, language="fa", segment=7, format="standard")
    en_short = Text(variant=4, language="en", segment=None, format="sms_short")
    en_easy = Text(variant=5, language="en", segment=None, format="easy_read")
    texts = [original, fa, fa_fans, en_short, en_easy]

    def pick(language, segments=(), needs=(), kind="sms", audience=()):
        return choose(texts, Person(language=language, segments=frozenset(segments), needs=frozenset(needs)),
                      audience=frozenset(audience), original_language="en", channel_kind=kind)

    assert pick("fa", [7]) == fa_fans
    assert pick("fa-AF", [7]) == fa_fans
    assert pick("fa") == fa
    assert pick("en", [7]) == en_short  # a Farsi text for segment 7 never goes to an English speaker
    assert pick("en", kind="email") == original
    assert pick("en", [9], needs=["easy_read"]) == en_easy
    assert pick("ti") == en_short  # nobody wrote in Tigrinya: the original's language, SMS form
    assert pick("ti", kind="email") == original
    assert pick("fa", [7], audience=[8]) is None
    assert pick("fa", [7, 8], audience=[8]) == fa_fans
    assert choose([fa], Person(language="en", segments=frozenset()), audience=frozenset(),
                  original_language="en", channel_kind="sms") is None
    # Order of the candidates does not matter.
    for order in (texts, list(reversed(texts))):
        assert choose(order, Person(language="fa", segments=frozenset({7})), audience=frozenset(),
                      original_language="en", channel_kind="sms") == fa_fans


def test_the_plan_counts_who_gets_which_text_and_what_it_costs_before_approval(world, sandbox, client):
    from decimal import Decimal

    from campaigns.services.coverage import recipient_plan
    from campaigns.services.recipients import recipients_import

    channel = sms_channel(world, sandbox)  # the sandbox's price: 0.04 GBP a part
    fans = segment_create(actor=world.a.officer, team=world.a.team, name="Away fans", languages=["en"],
                          channels=["sms"], needs=[])
    recipients_import(actor=world.a.admin, channel=channel, language="fa", consent_source="paper forms",
                      text="+447700900201\n+447700900202\n+447700900203,ar\nnot a number\n")
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900101", consent_source="form")
    recipient_add(actor=world.a.admin, channel=channel, address="+447700900102", segments=[fans.pk],
                  consent_source="club list")
    gone = recipient_add(actor=world.a.admin, channel=channel, address="+447700900103", consent_source="form")
    recipient_opt_out(actor=world.a.admin, recipient=gone)
    message = trilingual(world, channel)
    message_services.variant_add(actor=world.a.officer, message=message, language="en", body=EN_FANS, segment=fans)
    workflow.message_submit(actor=world.a.officer, message=message)

    [reach] = recipient_plan(message)
    by_label = {t.label: (t.recipients, t.sms_segments, t.cost) for t in reach.texts}
    fa_parts = by_label["FA · Standard"][1]
    assert by_label == {
        "Original (EN)": (1, 1, "0.04"),
        "FA · Standard": (2, fa_parts, str(Decimal("0.04") * 2 * fa_parts)),
        "AR · Standard": (1, 1, "0.04"),
        "EN · Standard · Away fans": (1, 1, "0.04"),
    }
    assert (reach.recipients, reach.opted_out, reach.not_targeted, reach.currency) == (5, 1, 0, "GBP")
    assert Decimal(reach.cost) == Decimal("0.04") * (3 + 2 * fa_parts)

    # The supervisor sees it on the page they approve from; counts, never the numbers.
    client.force_login(world.a.supervisor)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert "Who gets which text" in page and "Approve this version" in page
    assert "+447700900" not in page
    # And the API gives the same counts.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.a.supervisor)
    body = api.get(f"/api/v1/messages/{message.pk}/coverage/").json()
    assert {t["label"]: t["recipients"] for t in body["recipients"][0]["texts"]} == {
        label: n for label, (n, _, _) in by_label.items()}


def test_an_email_list_gets_one_text_each_in_their_language(world, sandbox, settings):
    from django.core import mail

    settings.ENGAGE_PUBLISH_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel = channel_create(actor=world.a.admin, team=world.a.team, kind="email", name="Residents",
                             config={"from_email": "updates@police.example"})
    for address, language in (("ann@example.org", "en"), ("dariush@example.org", "fa"), ("amal@example.org", "ar"),
                              ("bea@example.org", "pl")):
        recipient_add(actor=world.a.admin, channel=channel, address=address, language=language, consent_source="web")
    assert sorted(approve_and_send(world, trilingual(world, channel))) == ["sent", "sent", "sent"]
    got: dict[str, list[str]] = defaultdict(list)
    for email in mail.outbox:
        [to] = email.to
        got[to].append(email.body.split("\n\n")[0])
    assert dict(got) == {"ann@example.org": [EN], "dariush@example.org": [FA], "amal@example.org": [AR],
                         "bea@example.org": [EN]}  # nothing in Polish: the original


def test_a_refused_number_is_never_written_into_the_audit_trail(world, sandbox):
    from accounts.models import AuditEvent

    channel = sms_channel(world, sandbox)
    recipient_add(actor=world.a.admin, channel=channel, address="+15005550001", consent_source="form")  # invalid
    assert approve_and_send(world, make_message(world.a, body=EN, channels=[channel])) == ["failed"]
    failed = AuditEvent.objects.get(verb="delivery.failed")
    assert failed.summary["error"].startswith("sms: every recipient was rejected")
    assert not [e.verb for e in AuditEvent.objects.all() if "5005550001" in str(e.summary)]
