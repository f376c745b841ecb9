"""What the approved snapshot gives the worker, stated rule by rule (``campaigns.services.content``).

* ``approved_snapshot``: the stored version of *this* message whose number and hash are the
  approval's, and only while its content still hashes to that value; nothing otherwise (no
  version row, a tampered row); the same answer when the versions come prefetched (the public
  pages) as when they are read.
* ``snapshot_variant``: the original's text, language and images, or the one variant asked for.
* ``snapshot_payload``: exactly what leaves for one text: its text and language, the title (else
  the text's first line, cut to 120 characters), the public link, the hashtags and the metadata,
  whose ``language`` no caller can override.

(docs/testing.md lists the mutations of ``campaigns/services/content.py`` these are there to catch.)
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db.models import Prefetch

from campaigns.models import Message, MessageVersion
from campaigns.services import content, workflow
from campaigns.services import messages as message_services
from campaigns.services.content import approved_snapshot, snapshot_payload, snapshot_variant
from platforms.base import MediaItem, Payload
from tests.factories import make_approved, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_memo():
    """Each test starts with an empty per-process memo of approved snapshots, as a new worker does."""
    content._APPROVED.clear()
    yield
    content._APPROVED.clear()


# --- approved_snapshot ------------------------------------------------------------------------


def test_each_message_gets_its_own_approved_snapshot(world):
    """Two approved messages at the same version number: each gets its own text, read or memoised."""
    first = make_approved(world.a, body="Roads near the stadium close at noon. #DerbyDay")
    second = make_approved(world.a, body="The park is closed for the fireworks tonight. #DerbyDay")
    assert first.approved_version == second.approved_version
    for _ in range(2):  # the second round comes from the memo
        assert approved_snapshot(first)["body"] == "Roads near the stadium close at noon. #DerbyDay"
        assert approved_snapshot(second)["body"] == "The park is closed for the fireworks tonight. #DerbyDay"


def test_a_stored_version_whose_content_was_changed_gives_nothing(world):
    """The version row keeps the approved hash but its snapshot was edited behind the services' back."""
    message = make_approved(world.a, body="Roads near the stadium close at noon. #DerbyDay")
    row = MessageVersion.objects.get(message=message, version=message.approved_version)
    MessageVersion.objects.filter(pk=row.pk).update(
        snapshot={**row.snapshot, "body": "Something never approved"}
    )
    assert approved_snapshot(Message.objects.get(pk=message.pk)) is None


def test_an_approval_whose_version_row_is_gone_gives_nothing(world):
    message = make_approved(world.a)
    MessageVersion.objects.filter(message=message, version=message.approved_version).delete()
    assert approved_snapshot(Message.objects.get(pk=message.pk)) is None


def _edited_and_approved_again(world) -> Message:
    """A message approved, edited (a new version), and approved again: two versions stored."""
    a = world.a
    message = make_approved(a, body="Roads near the stadium close at noon. #DerbyDay")
    message = message_services.message_update(
        actor=a.officer, message=message, body="Roads near the stadium close at one. #DerbyDay"
    )
    message = workflow.message_submit(actor=a.officer, message=message)
    message = workflow.message_approve(actor=a.supervisor, message=message)
    assert MessageVersion.objects.filter(message=message).count() >= 2
    return message


def test_prefetched_versions_give_the_approved_one(world):
    message = _edited_and_approved_again(world)
    loaded = Message.objects.prefetch_related(
        Prefetch("versions", to_attr="approved_versions", queryset=MessageVersion.objects.order_by("version"))
    ).get(pk=message.pk)
    assert len(loaded.approved_versions) >= 2
    assert approved_snapshot(loaded)["body"] == "Roads near the stadium close at one. #DerbyDay"


def test_prefetched_versions_without_the_approved_one_give_nothing(world):
    message = _edited_and_approved_again(world)
    loaded = Message.objects.prefetch_related(
        Prefetch(
            "versions",
            to_attr="approved_versions",
            queryset=MessageVersion.objects.exclude(version=message.approved_version),
        )
    ).get(pk=message.pk)
    assert approved_snapshot(loaded) is None


# --- snapshot_variant -------------------------------------------------------------------------

SNAPSHOT = {
    "title": "",
    "body": "Roads near the stadium close at noon.\nTake the train. #DerbyDay",
    "language": "en",
    "urgency": "routine",
    "hashtags": ["DerbyDay"],
    "media": [{"sha256": "ab" * 32, "mime": "image/png", "alt_text": "Map", "position": 0}],
    "variants": [
        {"id": 7, "language": "fr", "format": "standard", "body": "Routes fermées.", "channels": [3]},
        {"id": 9, "language": "cy", "format": "standard", "body": "Ffyrdd ar gau.", "channels": [4]},
    ],
}


def test_the_original_is_its_text_language_and_images_on_every_channel():
    assert snapshot_variant(SNAPSHOT, None) == {
        "language": "en",
        "body": SNAPSHOT["body"],
        "media": SNAPSHOT["media"],
        "channels": None,
    }


def test_an_original_without_images_has_an_empty_list_of_them():
    without = {k: v for k, v in SNAPSHOT.items() if k != "media"}
    assert snapshot_variant(without, None)["media"] == []


def test_a_variant_is_the_one_asked_for_and_an_unknown_one_is_none():
    assert snapshot_variant(SNAPSHOT, 9) == SNAPSHOT["variants"][1]
    assert snapshot_variant(SNAPSHOT, 7) == SNAPSHOT["variants"][0]
    assert snapshot_variant(SNAPSHOT, 8) is None


# --- snapshot_payload -------------------------------------------------------------------------


def test_the_payload_is_the_texts_own_words_title_link_hashtags_and_metadata():
    media = (MediaItem(content=b"png", mime="image/png", alt_text="Map", filename="ab.png"),)
    text_of = snapshot_variant(SNAPSHOT, 9)
    payload = snapshot_payload(
        snapshot={**SNAPSHOT, "title": "Derby day", "urgency": "priority"},
        text_of=text_of,
        message_id=42,
        media=media,
        metadata={"delivery_id": "5", "language": "en"},
    )
    assert payload == Payload(
        text="Ffyrdd ar gau.",
        language="cy",
        media=media,
        subject="Derby day",
        link=f"{settings.ENGAGE_SITE_URL}/news/42/",
        hashtags=("DerbyDay",),
        metadata={"message_id": "42", "urgency": "priority", "delivery_id": "5", "language": "cy"},
    )


def test_an_untitled_payloads_subject_is_its_first_line_cut_to_120_characters():
    first = "Roads near the stadium close at noon " * 4  # 148 characters
    body = f"{first}\nTake the train.\nAllow extra time. #DerbyDay"
    payload = snapshot_payload(snapshot=SNAPSHOT, text_of={"body": body, "language": "en"}, message_id=1)
    assert payload.subject == first[:120]
    short = snapshot_payload(snapshot=SNAPSHOT, text_of=snapshot_variant(SNAPSHOT, None), message_id=1)
    assert short.subject == "Roads near the stadium close at noon."
    three = snapshot_payload(
        snapshot=SNAPSHOT,
        text_of={"body": "Roads close.\nTake the train.\nThanks.", "language": "en"},
        message_id=1,
    )
    assert three.subject == "Roads close."


def test_a_snapshot_without_hashtags_sends_none_and_metadata_is_the_messages_own():
    payload = snapshot_payload(
        snapshot={**SNAPSHOT, "hashtags": None}, text_of=snapshot_variant(SNAPSHOT, 7), message_id=3
    )
    assert payload.hashtags == ()
    assert payload.metadata == {"message_id": "3", "urgency": "routine", "language": "fr"}
    assert payload.media == ()


# --- message_snapshot's canonical order ---------------------------------------------------------


def _segment_numbered_one(a):
    """A segment of team ``a`` whose id is 1: the lowest an audience can have, so the variant for no
    audience must still sort before it (its key is 0, not an id)."""
    from campaigns.models import Segment
    from campaigns.services.segments import segment_create

    if a.segment.pk == 1:
        return a.segment
    fresh = segment_create(
        actor=a.officer, team=a.team, name="Numbered one", languages=["en"], channels=["sms"], needs=[]
    )
    if Segment.objects.filter(pk=1).exists():
        return fresh  # taken by another team's: the test still holds, with a weaker check
    Segment.objects.filter(pk=fresh.pk).update(id=1)
    return Segment.objects.get(pk=1)


def test_the_variant_for_no_audience_sorts_first_wherever_it_was_added(world):
    a = world.a
    from campaigns.services.segments import segment_create

    first = _segment_numbered_one(a)
    families = segment_create(
        actor=a.officer, team=a.team, name="Families", languages=["en"], channels=["sms"], needs=[]
    )
    hashes = []
    for order in ([None, first, families], [families, first, None]):
        message = make_message(a, channels=[a.public])
        for segment in order:
            message_services.variant_add(
                actor=a.officer,
                message=message,
                language="en",
                format="easy_read",
                body=f"Roads are busy. Take the train. ({segment or 'everyone'})",
                segment=segment,
            )
        hashes.append(Message.objects.get(pk=message.pk).content_hash)
    assert hashes[0] == hashes[1]
