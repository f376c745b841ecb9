"""What leaves for each delivery is exactly its own approved text, with its own images and their
types, and it leaves through the process's pooled connection.

* ``build_payload`` for each delivery of a message with variants: the text, language, subject,
  link, metadata and every image (bytes, type, alt text, file name) of that delivery's text.
* A channel's adapter talks through the one pooled HTTP client of its timeouts (a client per
  delivery would open new connections for every post, and is never closed).

(docs/testing.md lists the mutations of ``campaigns/publishing/send.py`` (was ``campaigns/services/sending.py``) these are there to catch.)
"""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings

from campaigns import publishing
from campaigns.models import Delivery
from campaigns.publishing.send import adapter_for, build_payload, http_client_for
from campaigns.services import messages as message_services
from campaigns.services.content import approved_snapshot
from platforms.base import MediaItem, Payload
from tests.factories import make_message
from tests.invariants.test_payload_media import png
from tests.invariants.test_publishing_decisions import make_approved_from

pytestmark = pytest.mark.django_db

FIRST_LINE = "Derby day: the roads near the stadium close at noon " + "and reopen at six in the evening " * 3
FR_BODY = "Les routes seront chargées samedi.\nPrenez le train, s'il vous plaît. #DerbyDay"


def image(data: bytes, alt_text: str) -> MediaItem:
    digest = hashlib.sha256(data).hexdigest()
    return MediaItem(content=data, mime="image/png", alt_text=alt_text, filename=f"{digest[:16]}.png")


def test_each_delivery_gets_its_own_approved_text_and_images_with_their_types(world):
    a = world.a
    body = f"{FIRST_LINE}\nPlease use the train and allow extra time. #DerbyDay"
    message = make_message(a, body=body, channels=[a.public, a.mastodon])
    french = message_services.variant_add(actor=a.officer, message=message, language="fr", body=FR_BODY)
    stored = {}
    for label, colour, variant in (("map", (0, 160, 0), None), ("route", (0, 0, 160), None),
                                   ("carte", (200, 0, 0), french)):
        asset = message_services.media_add(actor=a.officer, message=message, data=png(colour), alt_text=label,
                                           variant=variant)
        with asset.file.open("rb") as handle:
            stored[label] = handle.read()
    message = make_approved_from(a, message)
    publishing.message_schedule(actor=a.officer, message=message, scheduled_at=None)
    snapshot = approved_snapshot(message)
    deliveries = list(Delivery.objects.filter(message=message).select_related("message", "channel"))
    assert len(deliveries) == 4

    for delivery in deliveries:
        if delivery.variant_id is None:
            text, language, media = body, "en", (image(stored["map"], "map"), image(stored["route"], "route"))
        else:
            text, language, media = FR_BODY, "fr", (image(stored["carte"], "carte"),)
        expected = Payload(
            text=text, language=language, media=media, subject=text.split("\n", 1)[0][:120],
            link=f"{settings.ENGAGE_SITE_URL}/news/{message.pk}/", hashtags=("DerbyDay",),
            metadata={"message_id": str(message.pk), "urgency": "routine", "delivery_id": str(delivery.pk),
                      "language": language})
        assert build_payload(delivery, snapshot) == expected
        assert build_payload(Delivery.objects.select_related("message").get(pk=delivery.pk)) == expected


def test_a_titled_message_goes_out_under_its_title(world):
    message = make_approved_from(world.a, make_message(world.a, title="Derby day travel", channels=[world.a.public]))
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    payload = build_payload(Delivery.objects.select_related("message").get(message=message))
    assert (payload.subject, payload.media) == ("Derby day travel", ())


def test_each_channel_talks_through_the_pooled_client_of_its_timeouts(world):
    from campaigns.services.channels import channel_create

    quick = {"read_timeout": 3.0, "connect_timeout": 1.5}
    first = channel_create(actor=world.a.admin, team=world.a.team, kind="public", name="News one", config=quick)
    second = channel_create(actor=world.a.admin, team=world.a.team, kind="public", name="News two", config=quick)
    slow = channel_create(actor=world.a.admin, team=world.a.team, kind="public", name="News slow",
                          config={"read_timeout": 9.0})
    pooled = http_client_for(quick)
    assert adapter_for(first).http is pooled and adapter_for(second).http is pooled
    assert adapter_for(first).http is adapter_for(first).http  # every delivery, the same pool
    assert adapter_for(slow).http is http_client_for({"read_timeout": 9.0}) is not pooled
    assert (pooled.timeout.connect, pooled.timeout.read) == (1.5, 3.0)


@pytest.mark.parametrize(("behaviour", "outcome"), [({}, "sent"), ({"auth_expired": True}, "failed")])
def test_a_worker_that_returns_after_its_row_was_settled_and_claimed_again_writes_nothing(
        world, sandbox, monkeypatch, behaviour, outcome):
    """A worker stuck in its platform call past the time limit: the reaper settles its row (a
    platform that deduplicates: back to the queue), a new claim takes it and a new worker is in
    flight. When the first worker's call returns, its outcome must not be written on the second
    worker's attempt: it finishes under its own claim only."""
    import httpx
    from django.utils import timezone

    from campaigns.models import DeliveryStatus
    from campaigns.publishing import deliveries_claim_due, deliveries_reap_stale, delivery_begin
    from campaigns.publishing.send import delivery_send
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    mastodon = channel(world, sandbox, "mastodon")
    publishing.message_schedule(actor=world.a.officer, message=make_approved_from(
        world.a, make_message(world.a, channels=[mastodon])), scheduled_at=None)
    [(delivery_id, first_token, _)] = deliveries_claim_due()
    sandbox.set_behaviour("mastodon", **behaviour)
    real_send = httpx.Client.send
    second = {}

    def send_much_later(self, request, **kwargs):
        if not second:  # the time limit passes while this call hangs
            from datetime import timedelta

            Delivery.objects.filter(pk=delivery_id).update(in_flight_since=timezone.now() - timedelta(hours=1))
            assert deliveries_reap_stale(now=timezone.now())["retried"] == 1
            Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
            [(again, token, _)] = deliveries_claim_due()
            assert again == delivery_id and token != first_token
            second["token"] = token
            assert delivery_begin(delivery_id=delivery_id, token=token) is not None
            second["row"] = Delivery.objects.values().get(pk=delivery_id)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send_much_later)
    assert delivery_send(delivery_id=delivery_id, token=first_token) == outcome
    monkeypatch.undo()
    now = Delivery.objects.values().get(pk=delivery_id)
    assert now == second["row"], "the first worker's outcome was written on the second worker's attempt"
    assert (now["status"], now["claim_token"]) == (DeliveryStatus.SENDING, second["token"])


def test_expired_credentials_are_recorded_with_the_platforms_status(world, sandbox):
    from campaigns.models import DeliveryAttempt
    from campaigns.publishing import deliveries_claim_due
    from campaigns.publishing.send import delivery_send
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    mastodon = channel(world, sandbox, "mastodon")
    publishing.message_schedule(actor=world.a.officer, message=make_approved_from(
        world.a, make_message(world.a, channels=[mastodon])), scheduled_at=None)
    sandbox.set_behaviour("mastodon", auth_expired=True)
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["failed"]
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.outcome, attempt.http_status) == ("failed", 401)


def test_a_worker_whose_preparation_fails_after_its_row_was_claimed_again_writes_nothing(world, sandbox, monkeypatch):
    """The same, for a worker that fails while preparing (its image cannot be read) after the reaper
    settled its row and a new worker has it in flight: "could not prepare" is written under the first
    worker's own claim only, never on the second worker's attempt."""
    from datetime import timedelta

    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone

    from campaigns.models import DeliveryStatus
    from campaigns.publishing import deliveries_claim_due, deliveries_reap_stale, delivery_begin
    from campaigns.publishing.send import delivery_send
    from tests.campaigns.test_publishing import channel

    sandbox.reset()
    mastodon = channel(world, sandbox, "mastodon")
    message = make_message(world.a, channels=[mastodon])
    message_services.media_add(actor=world.a.officer, message=message, data=png((10, 200, 30)), alt_text="A map")
    publishing.message_schedule(actor=world.a.officer, message=make_approved_from(world.a, message), scheduled_at=None)
    [(delivery_id, first_token, _)] = deliveries_claim_due()
    second = {}

    def storage_gone(self, name, mode="rb"):
        # The time limit passes while the first worker waits on the storage, which then fails.
        Delivery.objects.filter(pk=delivery_id).update(in_flight_since=timezone.now() - timedelta(hours=1))
        assert deliveries_reap_stale(now=timezone.now())["retried"] == 1
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
        [(again, token, _)] = deliveries_claim_due()
        assert again == delivery_id and token != first_token
        second["token"] = token
        # The second worker is in flight (its own read of the image is not needed to show this).
        assert delivery_begin(delivery_id=delivery_id, token=token) is not None
        second["row"] = Delivery.objects.values().get(pk=delivery_id)
        raise OSError("the media volume went away")

    monkeypatch.setattr(FileSystemStorage, "_open", storage_gone)
    assert delivery_send(delivery_id=delivery_id, token=first_token) == "failed"
    monkeypatch.undo()
    now = Delivery.objects.values().get(pk=delivery_id)
    assert now == second["row"], "the first worker's failure was written on the second worker's attempt"
    assert (now["status"], now["claim_token"]) == (DeliveryStatus.SENDING, second["token"])
    assert sandbox.posts("mastodon") == []
