"""The worker's side of a delivery: each platform answer is recorded as what it means, on that
delivery only, and a take-down touches only a post that went out.

* A refusal of the channel's credentials fails the delivery and marks *that* channel's health,
  never another's; a server error or rate limit is retried later (never before the platform's
  ``Retry-After``); a lost answer after the call is unconfirmed, except on a platform that
  deduplicates on our key, where it is retried under the same key.
* A take-down acts on a sent delivery only; where the platform cannot delete, or the deletion
  fails, the post is listed for a person to delete, with the reason.

(docs/testing.md lists the mutations of ``campaigns/publishing/send.py`` (was ``campaigns/services/sending.py``) these are there to catch.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from campaigns import publishing
from campaigns.models import Channel, ChannelHealth, Delivery, DeliveryAttempt, DeliveryStatus
from campaigns.publishing import deliveries_claim_due, delivery_send, delivery_take_down
from tests.campaigns.test_publishing import channel, schedule_now, send_due
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset(sandbox):
    sandbox.reset()


def by_kind() -> dict[str, Delivery]:
    return {d.channel.kind: d for d in Delivery.objects.select_related("channel")}


def audit_of(delivery: Delivery, verb: str) -> list[dict]:
    return [e.summary for e in AuditEvent.objects.filter(verb=verb, target_id=str(delivery.pk))]


# --- what each platform answer means ---------------------------------------------------------------

def test_expired_credentials_fail_the_delivery_and_mark_that_channel_only(world, sandbox):
    telegram, mastodon = channel(world, sandbox, "telegram"), channel(world, sandbox, "mastodon")
    schedule_now(world, make_approved(world.a, channels=[telegram, mastodon]))
    sandbox.set_behaviour("telegram", auth_expired=True)
    outcomes = {Delivery.objects.get(pk=d).channel.kind: delivery_send(delivery_id=d, token=t)
                for d, t, _ in deliveries_claim_due()}
    assert outcomes == {"telegram": "failed", "mastodon": "sent"}
    rows = by_kind()
    assert rows["mastodon"].external_url.startswith("http")  # the platform's link to the post
    assert rows["telegram"].status == DeliveryStatus.FAILED and rows["telegram"].last_error
    telegram.refresh_from_db()
    mastodon.refresh_from_db()
    assert telegram.health == ChannelHealth.AUTH_EXPIRED and telegram.health_detail == rows["telegram"].last_error
    assert mastodon.health != ChannelHealth.AUTH_EXPIRED and mastodon.health_detail == ""
    assert sandbox.posts("telegram") == [] and len(sandbox.posts("mastodon")) == 1


def test_a_rate_limit_is_retried_no_sooner_than_the_platform_asks(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    sandbox.set_behaviour("telegram", rate_limit=1, retry_after=600)
    started = timezone.now()
    assert send_due() == ["transient"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error
    assert delivery.next_attempt_at >= started + timedelta(seconds=600)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.outcome == "transient" and attempt.http_status == 429
    assert audit_of(delivery, "delivery.transient") == [{"channel": "telegram", "http_status": 429,
                                                         "error": delivery.last_error, "external_id": ""}]
    assert send_due() == [] and sandbox.posts("telegram") == []


def test_each_retry_waits_twice_as_long_as_the_one_before(world, sandbox):
    from campaigns.publishing import RETRY_BASE_SECONDS

    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    sandbox.set_behaviour("telegram", fail=2)
    waits = []
    for _ in range(2):
        Delivery.objects.update(next_attempt_at=None)
        assert send_due() == ["transient"]
        # Measured from the attempt's end (the same instant the retry time is counted from), not
        # from before the call: on a loaded machine the call itself takes a second or more.
        finished = DeliveryAttempt.objects.filter(delivery__isnull=False).latest("id").finished_at
        waits.append((Delivery.objects.get().next_attempt_at - finished).total_seconds())
    assert waits == [RETRY_BASE_SECONDS, 2 * RETRY_BASE_SECONDS]


@pytest.mark.parametrize(("kind", "outcome", "status"), [
    ("telegram", "unconfirmed", DeliveryStatus.UNCONFIRMED),  # cannot be asked again blindly
    ("mastodon", "transient", DeliveryStatus.PENDING),  # deduplicates on our key: asked again, same key
])
def test_a_lost_answer_is_unconfirmed_unless_the_platform_deduplicates(world, sandbox, kind, outcome, status):
    made = channel(world, sandbox, kind)
    schedule_now(world, make_approved(world.a, channels=[made]))
    sandbox.set_behaviour(kind, drop=1)
    assert send_due() == [outcome]
    delivery = Delivery.objects.get()
    assert delivery.status == status and delivery.last_error
    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == outcome
    assert len(sandbox.posts(kind)) == 1  # the platform did get it


def test_a_platforms_refusal_fails_the_delivery_with_the_platforms_reason_and_no_retry(world, sandbox):
    """A permanent refusal (Telegram's 400 "chat not found") is recorded as failed, with the
    platform's words, on the row, its attempt and its audit; the row is no longer in flight (left
    in flight, the reaper would settle it later as if the worker had died), and it is not retried."""
    telegram = channel(world, sandbox, "telegram", chat_id="@no_such_channel")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    assert send_due() == ["failed"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "the chat was not found" in delivery.last_error
    assert delivery.in_flight_since is None and delivery.claim_token == ""
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.outcome, attempt.http_status, attempt.error) == ("failed", 400, delivery.last_error)
    assert audit_of(delivery, "delivery.failed") == [{"channel": "telegram", "http_status": 400,
                                                      "error": delivery.last_error, "external_id": ""}]
    assert send_due() == [] and sandbox.posts("telegram") == []


def test_an_unexpected_error_after_the_call_began_is_unconfirmed_and_never_resent(world, sandbox, monkeypatch):
    """Fault injection below our code: the HTTP library delivers the request, then raises something
    no adapter expects. The platform has the post, so the delivery must be unconfirmed (for a
    person, or a look-up), never failed-and-retryable, and the next tick must not post it again."""
    import httpx

    real_send = httpx.Client.send

    def send_then_break(self, request, **kwargs):
        real_send(self, request, **kwargs)
        raise RuntimeError("the connection's TLS state was lost after the request went out")

    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    monkeypatch.setattr(httpx.Client, "send", send_then_break)
    assert send_due() == ["unconfirmed"]
    monkeypatch.undo()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    assert delivery.last_error.startswith("Unexpected error: RuntimeError(")
    assert delivery.in_flight_since is None
    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == "unconfirmed"
    assert len(sandbox.posts("telegram")) == 1  # the platform did get it
    publishing.deliveries_reap_stale(now=timezone.now() + timedelta(hours=1))
    assert send_due() == [] and len(sandbox.posts("telegram")) == 1  # never sent again


def test_a_gateway_timeout_after_the_request_went_out_is_unconfirmed_with_its_status(world, sandbox, monkeypatch):
    """A gateway in front of the platform forwards the post, then answers 504: the platform may have
    it. The delivery is unconfirmed (never retried blindly), and its attempt and audit keep the 504 a
    person needs to judge it; the channel beside it, sent normally, keeps its own status."""
    import httpx

    real_send = httpx.Client.send

    def gateway_gives_up(self, request, **kwargs):
        real_send(self, request, **kwargs)
        return httpx.Response(504, request=request, json={"ok": False, "description": "Gateway Timeout"})

    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    monkeypatch.setattr(httpx.Client, "send", gateway_gives_up)
    assert send_due() == ["unconfirmed"]
    monkeypatch.undo()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED and "may have been accepted" in delivery.last_error
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.outcome, attempt.http_status) == ("unconfirmed", 504)
    assert [a["http_status"] for a in audit_of(delivery, "delivery.unconfirmed")] == [504]
    assert len(sandbox.posts("telegram")) == 1
    assert send_due() == [] and len(sandbox.posts("telegram")) == 1  # never sent again


def test_a_delivery_that_cannot_be_prepared_fails_without_a_call(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    Channel.objects.filter(pk=telegram.pk).update(kind="no-such-platform")
    assert send_due() == ["failed"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error.startswith("Could not prepare: ")
    assert sandbox.requests("telegram") == []


# --- take-down --------------------------------------------------------------------------------------

def test_a_take_down_deletes_a_sent_post_and_lists_what_it_cannot(world, sandbox):
    telegram, sms, mastodon = (channel(world, sandbox, k) for k in ("telegram", "sms", "mastodon"))
    message = schedule_now(world, make_approved(world.a, channels=[telegram, sms, mastodon]))
    assert sorted(send_due()) == ["sent", "sent", "sent"]
    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Out of date")
    sandbox.set_behaviour("mastodon", fail=5, applies_to="all")  # its deletion fails
    Delivery.objects.filter(channel=telegram).update(last_error="Take-down failed: an earlier try")
    rows = by_kind()
    for delivery in rows.values():
        delivery_take_down(delivery_id=delivery.pk)
    rows = by_kind()
    assert rows["telegram"].status == DeliveryStatus.WITHDRAWN and not rows["telegram"].manual_takedown
    assert rows["telegram"].last_error == "" and audit_of(rows["telegram"], "delivery.taken_down")
    assert sandbox.posts("telegram") == []
    # The platform cannot delete (SMS): a person must, and is told why.
    assert rows["sms"].status == DeliveryStatus.SENT and rows["sms"].manual_takedown
    assert rows["sms"].last_error == f"{sms.get_kind_display()} cannot delete posts through its API."
    assert audit_of(rows["sms"], "delivery.manual_takedown")[0]["error"] == rows["sms"].last_error
    assert set(AuditEvent.objects.filter(verb__in=["delivery.taken_down", "delivery.manual_takedown"])
               .values_list("team_id", flat=True)) == {world.a.team.pk}
    # The deletion failed: still sent, listed for a person, with the platform's error.
    assert rows["mastodon"].status == DeliveryStatus.SENT and rows["mastodon"].manual_takedown
    assert rows["mastodon"].last_error.startswith("Take-down failed: ")
    assert len(rows["mastodon"].last_error) > len("Take-down failed: ")
    assert len(sandbox.posts("mastodon")) == 1


def test_a_take_down_never_touches_a_post_whose_delivery_is_not_sent(world, sandbox):
    telegram = channel(world, sandbox, "telegram")
    schedule_now(world, make_approved(world.a, channels=[telegram]))
    assert send_due() == ["sent"]
    delivery = Delivery.objects.get()
    # Recorded as failed (a person resolved it so): its post, if any, is not ours to delete here.
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    delivery_take_down(delivery_id=delivery.pk)
    assert len(sandbox.posts("telegram")) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and not delivery.manual_takedown
    assert not AuditEvent.objects.filter(verb__startswith="delivery.", verb__contains="take").exists()


# --- the images: this text's own, in their order ----------------------------------------------------

def _image_message(world, sandbox, *colours, variant_colour=None):
    from campaigns.services import messages as message_services
    from campaigns.services import workflow
    from tests.factories import make_message
    from tests.invariants.test_payload_media import png

    a = world.a
    mastodon = channel(world, sandbox, "mastodon")
    message = make_message(a, channels=[mastodon])
    for n, colour in enumerate(colours):
        message_services.media_add(actor=a.officer, message=message, data=png(colour), alt_text=f"Picture {n}")
    if variant_colour is not None:
        variant = message_services.variant_add(actor=a.officer, message=message, language="fr",
                                               body="Les routes seront chargées samedi. #DerbyDay")
        message_services.media_add(actor=a.officer, message=message, data=png(variant_colour),
                                   alt_text="Une image", variant=variant)
    return workflow.message_approve(actor=a.supervisor, message=workflow.message_submit(actor=a.officer,
                                                                                        message=message))


def test_a_post_carries_every_image_of_its_text_in_order(world, sandbox):
    message = _image_message(world, sandbox, (200, 0, 0), (0, 200, 0), (0, 0, 200))
    schedule_now(world, message)
    assert send_due() == ["sent"]
    uploads = {r.id: r for r in sandbox.records("mastodon") if r.op == "media"}
    [post] = sandbox.posts("mastodon")
    ids = post.fields.get("media_ids[]", [])
    assert [uploads[i].fields.get("description") for i in ids] == ["Picture 0", "Picture 1", "Picture 2"]
    assert {uploads[i].files[0].content_type for i in ids} == {"image/png"}
    assert all(uploads[i].files[0].filename.endswith(".png") for i in ids)


def test_a_channels_own_timeouts_are_used_for_its_calls():
    from campaigns.publishing import http_client_for
    from platforms.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

    timeout = http_client_for({"connect_timeout": 2.5, "read_timeout": 7.0}).timeout
    assert (timeout.connect, timeout.read) == (2.5, 7.0)
    timeout = http_client_for({}).timeout
    assert (timeout.connect, timeout.read) == (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)


@pytest.mark.parametrize("borrowed_from", ["another message", "another variant"])
def test_a_missing_approved_image_is_never_borrowed_from_elsewhere(world, sandbox, borrowed_from):
    """The same bytes held by another message, or by another text of this one, are not this text's
    image: with its own gone, nothing is sent (``build_payload`` on the approved snapshot)."""
    from campaigns.models import MediaAsset
    from campaigns.publishing import NotApproved, build_payload
    from campaigns.services import messages as message_services
    from campaigns.services.content import approved_snapshot
    from tests.factories import make_message
    from tests.invariants.test_payload_media import png

    red = (200, 0, 0)
    if borrowed_from == "another message":
        message = _image_message(world, sandbox, red)
        message_services.media_add(actor=world.a.officer, message=make_message(world.a), data=png(red),
                                   alt_text="The same picture, elsewhere")
    else:
        message = _image_message(world, sandbox, red, variant_colour=red)
    schedule_now(world, message)
    snapshot = approved_snapshot(message)
    original = Delivery.objects.get(message=message, variant__isnull=True)
    assert [m.alt_text for m in build_payload(original, snapshot).media] == ["Picture 0"]
    MediaAsset.objects.filter(message=message, variant__isnull=True).delete()
    with pytest.raises(NotApproved, match="is missing"):
        build_payload(Delivery.objects.get(pk=original.pk), snapshot)


def test_a_list_send_that_reaches_some_recipients_keeps_their_ids_and_is_never_resent(world, sandbox):
    from campaigns.services.recipients import recipient_add
    from tests.campaigns.test_targeting import EN, sms_channel
    from tests.factories import make_message
    from tests.invariants.test_publishing_decisions import make_approved_from

    sms = sms_channel(world, sandbox)
    for number in ("+447700900101", "+447700900102"):
        recipient_add(actor=world.a.admin, channel=sms, address=number, language="en", consent_source="form")
    schedule_now(world, make_approved_from(world.a, make_message(world.a, body=EN, channels=[sms])))
    sandbox.set_behaviour("sms", after=1, fail=5)
    assert send_due() == ["unconfirmed"]
    delivery = Delivery.objects.get()
    [accepted] = sandbox.posts("sms")
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    assert delivery.external_id and delivery.external_id in str(accepted.id) + str(accepted.data)
    assert delivery.last_error.startswith("Partly delivered: 1 accepted, 0 unconfirmed, 1 not sent.")
    # The attempt keeps the status of the answer that stopped the list (the second recipient's 500).
    assert DeliveryAttempt.objects.get(delivery=delivery).http_status == 500
    assert send_due() == [] and len(sandbox.posts("sms")) == 1


def test_nothing_outside_the_approved_version_gets_a_payload(world, sandbox):
    """``build_payload`` refuses, with the reason, a variant or channel that is not in the approved
    version, images it was told are gone, and a message with no approved version at all."""
    from campaigns.publishing import NotApproved, build_payload
    from campaigns.services.content import approved_snapshot
    from tests.factories import make_message

    message = _image_message(world, sandbox, (200, 0, 0))
    snapshot = approved_snapshot(message)
    mastodon = message.channels.get()
    refusals = {
        "This variant is not part of the approved version.": Delivery(message=message, variant_id=10**9,
                                                                       channel=mastodon),
        "This channel is not part of the approved version.": Delivery(message=message, channel=world.a.sms),
    }
    no_images = Delivery(message=message, channel=mastodon)
    no_images.has_media = False  # as delivery_begin found: the message has no image rows left
    refusals["The approved images are missing."] = no_images
    for reason, delivery in refusals.items():
        with pytest.raises(NotApproved) as refused:
            build_payload(delivery, snapshot)
        assert str(refused.value) == reason
    from django.conf import settings

    payload = build_payload(Delivery(message=message, channel=mastodon), snapshot)
    assert payload.media and payload.link == f"{settings.ENGAGE_SITE_URL}/news/{message.pk}/"
    draft = make_message(world.a, channels=[mastodon])
    with pytest.raises(NotApproved) as refused:
        build_payload(Delivery(message=draft, channel=mastodon))
    assert str(refused.value) == "There is no approved version of this message."
