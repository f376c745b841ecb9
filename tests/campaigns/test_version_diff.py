"""The version history says what changed in every field kind: the text, the title, channels and
audiences by name, links and hashtags, images (added, removed, alt text), and each variant (added,
removed, its text and channels). A message back in review after an approval shows, at the top of
its page, what changed since the version approved."""

from __future__ import annotations

import io

from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from campaigns.models import MessageStatus, MessageVersion, VariantFormat
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.version_diff import snapshot_changes, version_diffs
from tests.factories import make_approved, make_message


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _snapshots(message) -> list[dict]:
    return [v.snapshot for v in MessageVersion.objects.filter(message=message).order_by("version")]


def _by_kind(changes) -> dict:
    return {c.kind: c for c in changes}


@translation.override("en")
def test_text_title_channels_segments_links_and_hashtags_are_named(world):
    tw = world.a
    message = make_message(tw, channels=[tw.public], title="Road closures", links=["https://a.example/old"])
    message_services.message_update(
        actor=tw.officer, message=message, body="Going to the derby? Take the tram and allow time.",
        title="Road closures on Saturday", channels=[tw.mastodon, tw.sms], segments=[tw.segment],
        links=["https://a.example/new"], hashtags=["DerbyDay", "Trams"])
    old, new = _snapshots(message)[-2:]
    changes = _by_kind(snapshot_changes(old, new))
    assert "<ins>on Saturday</ins>" in changes["title"].text
    assert "<del>" in changes["body"].text and "<ins>" in changes["body"].text and "tram" in changes["body"].text
    assert sorted(changes["channels"].added) == sorted([tw.mastodon.name, tw.sms.name])
    assert changes["channels"].removed == [tw.public.name]
    assert changes["segments"].added == [tw.segment.name] and not changes["segments"].removed
    assert changes["links"].added == ["https://a.example/new"] and changes["links"].removed == ["https://a.example/old"]
    assert changes["hashtags"].added == ["#Trams"] and not changes["hashtags"].removed
    assert not any(str(tw.public.pk) == name for name in changes["channels"].removed)


@translation.override("en")
def test_variants_added_removed_and_changed_read_by_language_format_and_audience(world):
    tw = world.a
    message = make_message(tw, channels=[tw.public, tw.sms])
    variant = message_services.variant_add(actor=tw.officer, message=message, language="fa",
                                           format=VariantFormat.EASY_READ, body="متن اول", segment=tw.segment)
    added = _by_kind(snapshot_changes(*_snapshots(message)[-2:]))["variant_added"]
    assert added.label == f"Variant Farsi · Easy read · {tw.segment.name}"
    assert "<ins>متن اول</ins>" in added.text

    message_services.variant_update(actor=tw.officer, variant=variant, body="متن دوم", channels=[tw.sms])
    changes = snapshot_changes(*_snapshots(message)[-2:])
    kinds = _by_kind(changes)
    assert "<del>اول</del>" in kinds["variant_text"].text and "<ins>دوم</ins>" in kinds["variant_text"].text
    assert kinds["variant_text"].label.startswith("Variant Farsi · Easy read")
    assert kinds["variant_channels"].added == [tw.sms.name]

    short = message_services.variant_add(actor=tw.officer, message=message, language="en",
                                         format=VariantFormat.SMS_SHORT, body="Derby: take the train.")
    message_services.variant_remove(actor=tw.officer, variant=short)
    removed = _by_kind(snapshot_changes(*_snapshots(message)[-2:]))["variant_removed"]
    assert removed.label == "Variant English · Short SMS" and "<del>Derby: take the train.</del>" in removed.text


@translation.override("en")
def test_images_added_removed_and_alt_text_changed(world):
    tw = world.a
    message = make_message(tw)
    first = message_services.media_add(actor=tw.officer, message=message, data=_png("red"), alt_text="Map of roads")
    kinds = _by_kind(snapshot_changes(*_snapshots(message)[-2:]))
    assert kinds["media"].added == ["image “Map of roads”"] and not kinds["media"].removed

    message_services.media_update_alt(actor=tw.officer, asset=first, alt_text="Map of closed roads")
    kinds = _by_kind(snapshot_changes(*_snapshots(message)[-2:]))
    assert kinds["media"].changed == [("Alt text", "Map of roads", "Map of closed roads")]
    assert not kinds["media"].added and not kinds["media"].removed

    first.delete()
    message_services.media_add(actor=tw.officer, message=message, data=_png("blue"), alt_text="Tram stop")
    kinds = _by_kind(snapshot_changes(*_snapshots(message)[-2:]))
    assert kinds["media"].removed == ["image “Map of closed roads”"]
    assert kinds["media"].added == ["image “Tram stop”"]


@translation.override("en")
def test_the_text_diff_is_escaped():
    old = {"body": "Hello", "variants": []}
    new = {"body": "Hello <script>alert(1)</script>", "variants": []}
    [change] = snapshot_changes(old, new)
    assert "<script>" not in change.text and "&lt;script&gt;" in change.text


@translation.override("en")
def test_the_history_reads_names_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    tw = world.a
    message = make_message(tw, channels=[tw.public])
    for channels in ([tw.mastodon], [tw.sms], [tw.public, tw.sms]):
        message_services.message_update(actor=tw.officer, message=message, channels=channels)
    versions = list(MessageVersion.objects.filter(message=message).select_related("created_by"))
    with django_assert_max_num_queries(2):
        steps = version_diffs(versions)
    assert [s["to"] for s in steps] == [4, 3, 2]
    assert _by_kind(steps[0]["changes"])["channels"].added == [tw.public.name]


def test_the_message_page_shows_the_history_and_what_changed_since_the_approval(world):
    tw = world.a
    message = make_approved(tw, channels=[tw.public], title="Kick-off")
    page = Client()
    page.force_login(tw.supervisor)
    html = page.get(reverse("campaigns:message", args=[message.pk])).content.decode()
    assert 'id="since-approval"' not in html  # approved, not back in review

    message_services.message_update(actor=tw.officer, message=message, channels=[tw.public, tw.mastodon],
                                    body="Kick-off is now at 8pm. Please use the train.")
    draft = page.get(reverse("campaigns:message", args=[message.pk])).content.decode()
    assert 'id="since-approval"' not in draft  # a draft again, not in review
    workflow.message_submit(actor=tw.officer, message=message)
    message.refresh_from_db()
    assert message.status == MessageStatus.IN_REVIEW
    html = page.get(reverse("campaigns:message", args=[message.pk])).content.decode()
    top = html[html.index('id="since-approval"'):html.index("</section>", html.index('id="since-approval"'))]
    assert f"{tw.supervisor.display_name} approved version 1" in top and "this is version 2" in top
    assert tw.mastodon.name in top and "<ins>" in top and "8pm." in top
    assert html.index('id="since-approval"') < html.index("What will go out")
    history = html[html.index(">History<"):]
    assert "Version 1 → 2" in history and tw.mastodon.name in history


def test_the_message_page_names_variants_and_shows_saved_links(world):
    tw = world.a
    message = make_message(tw, channels=[tw.public, tw.sms], links=["https://derby.example/travel"])
    message_services.variant_add(actor=tw.officer, message=message, language="fa", format=VariantFormat.SMS_SHORT,
                                 body="قطار", segment=tw.segment)
    page = Client()
    page.force_login(tw.officer)
    html = page.get(reverse("campaigns:message", args=[message.pk])).content.decode()
    assert f"Farsi · Short SMS · {tw.segment.name}" in html and ">FA ·" not in html
    links = html[html.index('id="saved-links"'):]
    assert 'href="https://derby.example/travel"' in links and "#DerbyDay" in links
