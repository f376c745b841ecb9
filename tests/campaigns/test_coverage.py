"""Audience segments: the delivery plan and the coverage check (issue 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import Channel, ChannelKind, Need, Segment
from campaigns.previews import with_isolated_hashtags
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.coverage import Content, coverage_gaps, delivery_plan, plan_for, segment_gaps
from campaigns.services.segments import segment_create
from core.errors import InvalidInput
from platforms.counting import count_for
from platforms.sms.counting import sms_parts
from tests.factories import make_message

pytestmark = pytest.mark.django_db

ARABIC = "يرجى الابتعاد عن المنطقة والبقاء في أمان. إذا كنت في خطر اتصل بالرقم 999. #RiversideSupport"


@pytest.fixture
def encampment(world):
    return segment_create(actor=world.a.officer, team=world.a.team, name="Encampment residents",
                          languages=["ar", "fa", "ti"], channels=["sms", "telegram"], needs=["low_bandwidth"])


def codes(message) -> set[str]:
    return {g.code for g in coverage_gaps(message)}


def test_missing_language(world, encampment):
    message = make_message(world.a, channels=[world.a.sms], segments=[encampment])
    assert codes(message) == {"coverage.language"}


def test_missing_channel(world, encampment):
    message = make_message(world.a, channels=[world.a.mastodon], segments=[encampment])
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=ARABIC)
    assert codes(message) == {"coverage.channel", "coverage.need.low_bandwidth"}


def test_missing_easy_read(world):
    older = segment_create(actor=world.a.officer, team=world.a.team, name="Older residents", languages=["en"],
                           channels=["sms", "public"], needs=["easy_read", "large_text"])
    message = make_message(world.a, channels=[world.a.sms, world.a.public], segments=[older])
    assert codes(message) == {"coverage.need.easy_read"}
    message_services.variant_add(actor=world.a.officer, message=message, language="en", format="easy_read",
                                 body="Roads are busy. Take the train. Give yourself more time. #DerbyDay")
    assert codes(message) == set()


def test_full_coverage_and_the_arabic_variant_clears_the_warning(world, encampment):
    message = make_message(world.a, channels=[world.a.sms], segments=[encampment])
    assert codes(message) == {"coverage.language"}
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=ARABIC)
    assert codes(message) == set()


def test_plan_proposes_the_segments_channels_in_their_order(world, encampment):
    message = make_message(world.a, channels=[world.a.mastodon], segments=[encampment])
    [plan] = delivery_plan(message)
    assert plan.channel_kinds == ["sms"]  # the team has SMS, not Telegram
    assert plan.language == "ar" and plan.other_languages == ["fa", "ti"]
    assert plan.formats == ["standard", "sms_short"]
    from campaigns.services.coverage import message_apply_plan

    message = message_apply_plan(actor=world.a.officer, message=message)
    assert {c.kind for c in message.channels.all()} == {"mastodon", "sms"}


def test_team_can_make_gaps_block_submission(world, encampment):
    world.a.team.settings = {"coverage_as_error": True}
    world.a.team.save(update_fields=["settings"])
    message = make_message(world.a, channels=[world.a.sms], segments=[encampment],
                           body="Roads are busy near Riverside. Please take care and allow extra time. #DerbyDay")
    with pytest.raises(InvalidInput) as exc:
        workflow.message_submit(actor=world.a.officer, message=message)
    assert exc.value.code == "coverage_gaps"
    message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=ARABIC)
    assert workflow.message_submit(actor=world.a.officer, message=message).status == "in_review"


def test_gaps_are_warnings_by_default(world, encampment):
    message = make_message(world.a, channels=[world.a.sms], segments=[encampment],
                           body="Roads are busy near Riverside. Please take care and allow extra time. #DerbyDay")
    assert codes(message)
    assert workflow.message_submit(actor=world.a.officer, message=message).status == "in_review"


def test_machine_suggestion_needs_human_editing_before_submission(world):
    message = make_message(world.a, channels=[world.a.public])
    variant = message_services.variant_add(actor=world.a.officer, message=message, language="fr",
                                           body="Les routes sont chargées. #DerbyDay", machine_suggested=True)
    with pytest.raises(InvalidInput) as exc:
        workflow.message_submit(actor=world.a.officer, message=message)
    assert exc.value.code == "machine_translation_unedited"
    message_services.variant_update(actor=world.a.officer, variant=variant,
                                    body="Les routes près du stade sont chargées : prenez le train. #DerbyDay")
    assert workflow.message_submit(actor=world.a.officer, message=message).status == "in_review"


def test_rtl_variant_is_stored_rendered_rtl_and_counted_as_ucs2(world, client, encampment):
    message = make_message(world.a, channels=[world.a.sms], segments=[encampment])
    variant = message_services.variant_add(actor=world.a.officer, message=message, language="ar", body=ARABIC)
    variant.refresh_from_db()
    assert variant.body == ARABIC and variant.direction == "rtl"
    sms = count_for("sms", ARABIC)
    assert sms.encoding == "UCS-2" and sms.segments == 2  # 87 UTF-16 units: more than 70, up to 2 x 67
    client.force_login(world.a.officer)
    page = client.get(reverse("campaigns:message", kwargs={"pk": message.pk})).content.decode()
    assert 'lang="ar" dir="rtl"' in page
    # The SMS preview shows the text in the two parts the network sends, and says so plainly.
    for part in sms_parts(ARABIC):  # each hashtag isolated, so it keeps its # in front
        assert with_isolated_hashtags(part) in page
    assert "<bdi>#RiversideSupport</bdi>" in page
    assert f"{sms.used} of 201 characters, 2 text messages" in page


def test_coverage_api(world, encampment):
    from rest_framework.test import APIClient

    message = make_message(world.a, channels=[world.a.sms], segments=[encampment])
    api = APIClient()
    api.force_authenticate(world.a.officer)
    body = api.get(f"/api/v1/messages/{message.pk}/coverage/").json()
    assert [g["code"] for g in body["gaps"]] == ["coverage.language"]
    assert body["plan"][0]["language"] == "ar" and body["blocking"] is False
    api.force_authenticate(world.b.officer)
    assert api.get(f"/api/v1/messages/{message.pk}/coverage/").status_code == 404


LANGS = st.sampled_from(["en", "ar", "fa", "ti", "pl", "ro", "uk", "fr"])
KINDS = st.sampled_from([k for k in ChannelKind.values])
NEEDS = st.sampled_from([n for n in Need.values])


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(st.tuples(st.lists(LANGS, max_size=3, unique=True), st.lists(KINDS, max_size=4, unique=True),
                                st.lists(NEEDS, max_size=3, unique=True)), min_size=1, max_size=5),
    team_kinds=st.lists(KINDS, unique=True, max_size=8),
    message_kinds=st.lists(KINDS, unique=True, max_size=4),
    languages=st.lists(LANGS, min_size=1, max_size=4, unique=True),
)
def test_plan_covers_first_language_and_a_channel_or_reports_the_gap(segments, team_kinds, message_kinds,
                                                                     languages):
    """Pure property over the planning rules (no database): for any combination of segments, either
    the message covers each segment's first language and one of its channels, or the gap is reported."""
    content = Content(channel_kinds=frozenset(message_kinds), languages=frozenset(languages),
                      formats_by_language={lang: frozenset({"standard"}) for lang in languages}, has_links=False)
    team_channels = [Channel(pk=i + 1, kind=kind, name=kind, is_active=True) for i, kind in enumerate(team_kinds)]
    for i, (langs, kinds, needs) in enumerate(segments):
        segment = Segment(pk=i + 1, name=f"S{i}", languages=langs, channels=kinds, needs=needs)
        plan = plan_for(segment=segment, team_channels=team_channels, content=content)
        gaps = {g.code for g in segment_gaps(segment=segment, content=content)}
        if langs:
            assert plan.language == langs[0]
            assert (langs[0] in languages) or ("coverage.language" in gaps)
        if kinds:
            assert set(plan.channel_kinds) <= set(kinds)
            assert plan.channel_kinds == sorted(plan.channel_kinds, key=kinds.index)
            assert (set(kinds) & set(message_kinds)) or ("coverage.channel" in gaps)
        assert {g.code for g in plan.gaps} == gaps
