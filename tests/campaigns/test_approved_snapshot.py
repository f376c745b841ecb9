"""Issue 12, section 1: the approval binds everything that leaves.

Every payload is built from the approved version's snapshot, never from the live rows, and every
field that goes out is in the hashed snapshot. The lists below are built from the code itself (the
Payload dataclass, the models' fields, the snapshot's keys), so a field added later fails here until
it is covered.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from campaigns import publishing
from campaigns.models import (
    Approval,
    Delivery,
    DeliveryStatus,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    Variant,
)
from campaigns.publishing import NotApproved, build_payload, deliveries_claim_due, delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.channels import channel_create
from campaigns.services.content import approved_snapshot, content_hash, hash_snapshot, message_snapshot
from core.errors import NotAllowed
from platforms.base import Payload
from tests.factories import make_approved, make_message, make_submitted

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def webhook(world, sandbox):
    config, secrets = sandbox.config_for("webhook")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="webhook", name="Partner hook",
                          config={**config, **secrets, "read_timeout": 1.0})


def png(colour: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def send_due() -> list[str]:
    return [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()]


def rich_approved(world, sandbox) -> Message:
    """A message with every kind of content: title, links, hashtags, CAP, a segment, a variant with
    its own channel and image, and an image of the original."""
    hook = webhook(world, sandbox)
    message = make_message(world.a, channels=[hook, world.a.public], title="Derby day: roads busy",
                           links=["https://example.org/travel"], segments=[world.a.segment])
    message_services.media_add(actor=world.a.officer, message=message, data=png("navy"),
                               alt_text="Map of the roads closed near the stadium")
    variant = message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                           body="الطرق مزدحمة قرب الملعب. استخدموا القطار. #DerbyDay",
                                           channels=[hook], segment=world.a.segment)
    message_services.media_add(actor=world.a.officer, message=message, data=png("green"), variant=variant,
                               alt_text="خريطة الطرق المغلقة")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    return workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)


# --- the title ----------------------------------------------------------------------------------

def test_changing_the_title_after_approval_voids_the_approval(world):
    message = make_approved(world.a, title="Derby day")
    assert message.is_approved
    edited = message_services.message_update(actor=world.a.officer, message=message, title="Something else")
    assert not edited.is_approved
    assert edited.status == MessageStatus.DRAFT and edited.approved_hash == ""
    assert Approval.objects.filter(message=message, voided_at__isnull=True).count() == 0


def test_a_supervisor_who_edited_only_the_title_cannot_approve(world):
    message = make_submitted(world.a, title="Derby day")
    message_services.message_update(actor=world.a.supervisor, message=message, title="Derby day: use the train")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    with pytest.raises(NotAllowed) as refused:
        workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)
    assert refused.value.code == "own_message"
    approved = workflow.message_approve(actor=world.a.supervisor2, message=message,
                                        expected_hash=message.content_hash)
    assert approved.is_approved


def test_a_title_changed_behind_the_services_back_never_goes_out(world, sandbox):
    hook = webhook(world, sandbox)
    message = make_approved(world.a, channels=[hook], title="Derby day: roads busy")
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    Message.objects.filter(pk=message.pk).update(title="Changed after approval")
    assert send_due() == ["not-sent"]
    assert sandbox.posts("webhook") == []
    assert Delivery.objects.get(message=message).status == DeliveryStatus.SKIPPED


def test_the_webhook_gets_the_approved_title(world, sandbox):
    hook = webhook(world, sandbox)
    message = make_approved(world.a, channels=[hook], title="Derby day: roads busy")
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert send_due() == ["sent"]
    [post] = sandbox.posts("webhook")
    assert post.fields["title"] == "Derby day: roads busy"


# --- payloads come from the approved snapshot ---------------------------------------------------

def _deliveries(message: Message) -> list[Delivery]:
    return list(Delivery.objects.filter(message=message).select_related("message", "channel", "variant")
                .order_by("id"))


def test_every_payload_is_built_from_the_approved_snapshot_not_the_live_rows(world, sandbox):
    message = rich_approved(world, sandbox)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    before = [build_payload(d) for d in _deliveries(message)]
    # Live rows changed behind the services' back (the worker would refuse to send these anyway).
    Message.objects.filter(pk=message.pk).update(title="X", body="Live body", language="fr", urgency="emergency")
    Variant.objects.filter(message=message).update(body="Live variant", language="de")
    MediaAsset.objects.filter(message=message).update(alt_text="Live alt text", mime="image/gif")
    after = [build_payload(d) for d in _deliveries(message)]
    assert after == before
    texts = {p.text for p in before}
    assert "Live body" not in texts and "Live variant" not in texts
    assert {p.subject for p in before} == {"Derby day: roads busy"}
    assert {m.alt_text for p in before for m in p.media} == {"Map of the roads closed near the stadium",
                                                             "خريطة الطرق المغلقة"}


def test_the_images_sent_are_the_approved_bytes(world, sandbox):
    hook = webhook(world, sandbox)
    message = make_message(world.a, channels=[hook])
    asset = message_services.media_add(actor=world.a.officer, message=message, data=png("navy"),
                                       alt_text="Map of the roads closed near the stadium")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    message = workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)
    with asset.file.open("wb") as handle:  # the stored file swapped for other bytes
        handle.write(png("red"))
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert send_due() == ["failed"]
    assert sandbox.posts("webhook") == []
    assert "not the approved one" in Delivery.objects.get(message=message).last_error


def test_a_variant_gets_its_own_approved_images_only(world, sandbox):
    message = rich_approved(world, sandbox)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    payloads = {(d.variant.language if d.variant else "orig", d.channel.kind): build_payload(d)
                for d in _deliveries(message)}
    shas = {key: {hashlib.sha256(m.content).hexdigest() for m in p.media} for key, p in payloads.items()}
    snapshot = approved_snapshot(message)
    assert shas[("orig", "webhook")] == {m["sha256"] for m in snapshot["media"]}
    assert shas[("ar", "webhook")] == {m["sha256"] for m in snapshot["variants"][0]["media"]}
    assert shas[("orig", "webhook")].isdisjoint(shas[("ar", "webhook")])


def test_a_delivery_outside_the_approved_plan_is_refused(world, sandbox):
    message = rich_approved(world, sandbox)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    ar = next(d for d in _deliveries(message) if d.variant_id)
    ar.channel = world.a.public  # the variant was approved for the webhook only
    ar.channel_id = world.a.public.pk
    with pytest.raises(NotApproved):
        build_payload(ar)
    stranger = make_approved(world.a, channels=[world.a.mastodon])
    original = next(d for d in _deliveries(message) if d.variant_id is None)
    original.channel, original.channel_id = stranger.channels.first(), world.a.mastodon.pk
    with pytest.raises(NotApproved):
        build_payload(original)


def test_no_approved_version_means_no_payload(world, sandbox):
    message = rich_approved(world, sandbox)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    delivery = _deliveries(message)[0]
    MessageVersion.objects.filter(message=message).update(snapshot={"body": "forged", "variants": []})
    from campaigns.services import content

    content._APPROVED.clear()
    with pytest.raises(NotApproved):
        build_payload(delivery)
    assert send_due() == ["not-sent"] * len(_deliveries(message))


# --- the lists: every field that leaves is in the hashed snapshot --------------------------------

# Payload fields that carry no approved content: where it goes, not what it says.
NOT_CONTENT_PAYLOAD = {"link", "in_reply_to", "recipients"}
# Model fields that are not content: workflow state, bookkeeping, identity.
NOT_CONTENT_MODEL = {
    Message: {"id", "campaign", "team", "author", "status", "version", "content_hash", "approved_hash",
              "approved_version", "approved_at", "approved_by", "emergency_self_approved",
              "emergency_reviewed_by", "emergency_reviewed_at", "pause_override_by", "pause_override_at",
              "submitted_at", "scheduled_at", "published_at", "withdrawn_at", "created_at", "updated_at"},
    Variant: {"id", "message", "created_at"},
    MediaAsset: {"id", "message", "variant", "file", "width", "height", "created_at"},
}
SNAPSHOT_NAME = {"correction_of": "correction_of", "segment": "segment"}


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, (*path, i))]
    return [path]


def _get(snapshot: dict, path: tuple) -> Any:
    for key in path:
        snapshot = snapshot[key]
    return snapshot


def _set(snapshot: dict, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        snapshot = snapshot[key]
    snapshot[path[-1]] = value


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [*value, 999]
    if isinstance(value, dict):
        return {**value, "changed": "yes"}
    if value is None:
        return 12345
    if isinstance(value, str) and len(value) == 64:
        return hashlib.sha256(value.encode()).hexdigest()
    return f"{value}-changed"


def test_every_model_field_that_can_leave_is_in_the_snapshot(world, sandbox):
    """A new field on Message, Variant or MediaAsset must be put in the snapshot or declared here as
    not content."""
    snapshot = message_snapshot(rich_approved(world, sandbox))
    places = {Message: set(snapshot), Variant: set(snapshot["variants"][0]), MediaAsset: set(snapshot["media"][0])}
    for model, keys in places.items():
        fields = {f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many}
        fields -= {f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete}
        missing = fields - NOT_CONTENT_MODEL[model] - keys
        assert not missing, f"{model.__name__} fields outside the hashed snapshot: {sorted(missing)}"


def test_every_snapshot_field_is_hashed(world, sandbox):
    snapshot = message_snapshot(rich_approved(world, sandbox))
    approved = hash_snapshot(snapshot)
    for path in _leaves(snapshot):
        if path[-1] == "id" and path[0] == "variants":
            continue  # the variant's row id: which delivery it is, not what it says
        mutated = copy.deepcopy(snapshot)
        _set(mutated, path, _changed(_get(snapshot, path)))
        assert hash_snapshot(mutated) != approved, f"{'.'.join(map(str, path))} is not covered by the hash"


def test_every_payload_field_comes_from_the_hashed_snapshot(world, sandbox):
    """For each field of Payload, some hashed leaf of the snapshot changes it (or it is declared as
    not content). Live rows are reduced to their ids, so a field read from a live row fails."""
    message = rich_approved(world, sandbox)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    snapshot = approved_snapshot(message)
    covered: set[str] = set()
    for delivery in _deliveries(message):
        bare = SimpleNamespace(pk=delivery.pk, message_id=message.pk, message=SimpleNamespace(pk=message.pk),
                               variant_id=delivery.variant_id, channel_id=delivery.channel_id)
        base = build_payload(bare, snapshot)  # type: ignore[arg-type]
        assert base == build_payload(delivery, snapshot)
        for path in _leaves(snapshot):
            mutated = copy.deepcopy(snapshot)
            _set(mutated, path, _changed(_get(snapshot, path)))
            try:
                payload = build_payload(bare, mutated)  # type: ignore[arg-type]
            except NotApproved:
                continue  # refused: nothing leaves
            for f in dataclasses.fields(Payload):
                if getattr(payload, f.name) != getattr(base, f.name):
                    covered.add(f.name)
    content_fields = {f.name for f in dataclasses.fields(Payload)} - NOT_CONTENT_PAYLOAD
    assert content_fields <= covered, f"Payload fields not built from the snapshot: {content_fields - covered}"


# --- property: any one leaving field changed after approval voids it ---------------------------------

SERVICE_EDITS = {
    "title": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, title=v),
    "body": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, body=v),
    "language": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, language=v[:2]),
    "links": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m,
                                                             links=[f"https://example.org/{v}"]),
    "hashtags": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, hashtags=[v]),
    "urgency": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, urgency="priority"),
    "channels": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m,
                                                                channels=[w.a.public, w.a.mastodon]),
    "segments": lambda w, m, v: message_services.message_update(actor=w.a.officer, message=m, segments=[]),
    "variant body": lambda w, m, v: message_services.variant_update(actor=w.a.officer, variant=m.variants.first(),
                                                                     body=f"{v} #DerbyDay"),
    "alt text": lambda w, m, v: message_services.media_update_alt(actor=w.a.officer, asset=m.media.first(),
                                                                  alt_text=v),
}
BYPASS_EDITS = {
    "title": lambda m, v: Message.objects.filter(pk=m.pk).update(title=v),
    "body": lambda m, v: Message.objects.filter(pk=m.pk).update(body=v),
    "cap": lambda m, v: Message.objects.filter(pk=m.pk).update(cap={"headline": v}),
    "variant body": lambda m, v: Variant.objects.filter(message=m).update(body=v),
    "variant language": lambda m, v: Variant.objects.filter(message=m).update(language=v[:2]),
    "alt text": lambda m, v: MediaAsset.objects.filter(message=m).update(alt_text=v),
    "image": lambda m, v: MediaAsset.objects.filter(message=m).update(sha256=hashlib.sha256(v.encode()).hexdigest()),
    "mime": lambda m, v: MediaAsset.objects.filter(message=m).update(mime=f"image/{v[:10]}"),
}
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12)


def _approved_with_parts(world, channel) -> Message:
    message = make_message(world.a, channels=[channel], title="Derby day", segments=[world.a.segment],
                           links=["https://example.org/travel"])
    message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                 body="الطرق مزدحمة. استخدموا القطار. #DerbyDay")
    message_services.media_add(actor=world.a.officer, message=message, data=png(),
                               alt_text="Map of the roads closed near the stadium")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    return workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)


class _Rollback(Exception):
    pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(SERVICE_EDITS)), value=words)
def test_any_edit_through_the_services_after_approval_voids_it(world, sandbox, field, value):
    try:
        with transaction.atomic():
            message = _approved_with_parts(world, world.a.public)
            approved = message.approved_hash
            SERVICE_EDITS[field](world, message, value)
            message.refresh_from_db()
            assert content_hash(message) != approved
            assert not message.is_approved and message.status == MessageStatus.DRAFT
            raise _Rollback
    except _Rollback:
        pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from([None, *sorted(BYPASS_EDITS)]), value=words)
def test_any_leaving_field_changed_behind_the_services_back_stops_the_worker(world, sandbox, field, value):
    try:
        with transaction.atomic():
            hook = webhook(world, sandbox)
            message = _approved_with_parts(world, hook)
            publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
            if field is not None:
                BYPASS_EDITS[field](message, value)
            message.refresh_from_db()
            assert (content_hash(message) == message.approved_hash) is (field is None)
            outcomes = send_due()
            assert outcomes == (["sent", "sent"] if field is None else ["not-sent", "not-sent"])
            raise _Rollback
    except _Rollback:
        pass


# --- the public pages, feeds and CAP show the approved words, not the live rows ----------------------

def test_public_pages_feeds_and_cap_show_the_approved_version(world, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "engage-h1-public-snapshot"}}
    from engage.public import cache as public_cache

    public_cache.reset_local()
    message = make_message(world.a, channels=[world.a.public], urgency="priority",
                           body="Roads near the stadium are closed until 18:00. Use the train. #DerbyDay")
    message_services.variant_add(actor=world.a.officer, message=message, language="ar",
                                 body="الطرق مغلقة حتى الساعة 18:00. استخدموا القطار. #DerbyDay")
    message_services.media_add(actor=world.a.officer, message=message, data=png(),
                               alt_text="Map of the closed roads")
    message = workflow.message_submit(actor=world.a.officer, message=message)
    message = workflow.message_approve(actor=world.a.supervisor, message=message, expected_hash=message.content_hash)
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert set(send_due()) == {"sent"}
    # Rows changed behind the services' back after publishing.
    Message.objects.filter(pk=message.pk).update(body="FORGED original", cap={"headline": "FORGED", "sender": "x@y"})
    Variant.objects.filter(message=message).update(body="FORGED variant")
    MediaAsset.objects.filter(message=message).update(alt_text="FORGED alt")
    public_cache.reset_local()
    pages = [client.get(f"/news/{message.pk}/").content.decode(),
             client.get(f"/news/{message.pk}/?lang=ar").content.decode(),
             client.get("/news/").content.decode(),
             client.get("/feeds/news.atom").content.decode(),
             client.get(f"/cap/{message.pk}.xml").content.decode()]
    everything = "\n".join(pages)
    assert "FORGED" not in everything
    assert "Roads near the stadium are closed until 18:00" in pages[0]
    assert "الطرق مغلقة حتى الساعة 18:00" in pages[1] and "الطرق مغلقة" in pages[4]
    assert "Map of the closed roads" in pages[0]


def _as_stored_before_title_migration(message):
    """Put ``message``'s stored hashes and approved version back as campaigns 0007 found them."""
    old_snapshot = message_snapshot(message)
    del old_snapshot["title"], old_snapshot["correction_of"]
    for item in [*old_snapshot["media"], *(m for v in old_snapshot["variants"] for m in v["media"])]:
        del item["mime"]
    old = hash_snapshot(old_snapshot)
    Message.objects.filter(pk=message.pk).update(content_hash=old, approved_hash=old)
    MessageVersion.objects.filter(message=message, version=message.version).update(content_hash=old,
                                                                                  snapshot=old_snapshot)
    Approval.objects.filter(message=message).update(content_hash=old)
    return old


def _title_migration():
    import importlib

    return importlib.import_module("campaigns.migrations.0007_message_title_in_content_hash")


def test_the_migration_rehashes_stored_content_and_carries_a_standing_approval(world, sandbox):
    """campaigns 0007: an approval that held under the old hash (no title, image type or corrected
    message) holds under the new one where the message already went out, and its stored version
    gains the new fields."""
    from django.apps import apps

    message = rich_approved(world, sandbox)
    old = _as_stored_before_title_migration(message)
    Message.objects.filter(pk=message.pk).update(status="published")
    stale = make_submitted(world.a)  # an approval that did not hold is not carried over
    Message.objects.filter(pk=stale.pk).update(content_hash=old, approved_hash="f" * 64)
    _title_migration().rehash(apps, None)
    message.refresh_from_db()
    stale.refresh_from_db()
    assert message.content_hash == message.approved_hash == content_hash(message) != old
    assert message.is_approved and approved_snapshot(message)["title"] == "Derby day: roads busy"
    assert Approval.objects.filter(message=message, content_hash=message.content_hash).exists()
    assert stale.content_hash == content_hash(stale) and stale.approved_hash == "f" * 64


@pytest.mark.parametrize("status", ["approved", "scheduled"])
def test_the_migration_sends_a_titled_message_not_yet_sending_back_for_review(world, sandbox, status):
    """A title no supervisor approved never leaves: an approved or scheduled message with a title
    goes back to review, its pending deliveries skipped, its approvals voided, audited."""
    from django.apps import apps
    from django.utils import timezone

    from accounts.models import AuditEvent
    from campaigns.models import Delivery

    message = rich_approved(world, sandbox)
    _as_stored_before_title_migration(message)
    Message.objects.filter(pk=message.pk).update(status=status)
    other = make_approved(world.a, title="")  # a message with no title keeps its approval
    _as_stored_before_title_migration(other)
    pending = Delivery.objects.create(message=message, channel=message.channels.first(), idempotency_key="mig-1",
                                      due_at=timezone.now())
    _title_migration().rehash(apps, None)
    message.refresh_from_db()
    other.refresh_from_db()
    pending.refresh_from_db()
    assert message.status == "in_review" and not message.is_approved and message.approved_hash == ""
    assert message.content_hash == content_hash(message)
    assert not Approval.objects.filter(message=message, voided_at__isnull=True).exists()
    assert pending.status == "skipped"
    event = AuditEvent.objects.get(verb="message.approval_voided", target_id=str(message.pk))
    assert event.actor_label == "system" and event.summary["from"] == status
    assert other.is_approved and other.status == "approved"
