"""The send: build the payload from the approved snapshot, call the adapter, record the outcome.

The worker's side of a delivery: :func:`delivery_send` runs between :func:`.lifecycle.delivery_begin`
(nothing leaves unless it marked the row in flight) and :func:`.lifecycle.delivery_finish`."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import replace

import httpx

from campaigns.models import Channel, Delivery, MediaAsset
from campaigns.publishing.lifecycle import delivery_begin, delivery_finish, delivery_skip_in_flight
from campaigns.publishing.outbound import call_platform
from campaigns.services.content import approved_snapshot, snapshot_payload, snapshot_variant
from campaigns.services.targeting import delivery_recipients
from core.dbretry import LOST, with_reconnect
from core.failpoints import failpoint
from platforms import get_adapter
from platforms.base import (
    MediaItem,
    Payload,
    PermanentError,
)
from platforms.http import client_from_config

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def _shared_client(connect_timeout: float | None, read_timeout: float | None) -> httpx.Client:
    """One pooled HTTP client per timeout pair and process (httpx clients are thread-safe)."""
    config = {k: v for k, v in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)) if v}
    return client_from_config(config)


def http_client_for(config: dict) -> httpx.Client:
    """The process's pooled HTTP client for a channel's timeouts (for adapters, and calls beside them)."""
    return _shared_client(config.get("connect_timeout"), config.get("read_timeout"))


def adapter_for(channel: Channel):
    config = channel.config or {}
    return get_adapter(channel.kind, config=config, secrets=channel.get_secrets(), http=http_client_for(config))


class NotApproved(PermanentError):
    """The delivery is not part of what was approved (its text, channel or images): nothing leaves."""


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _approved_media(delivery: Delivery, items: list[dict]) -> tuple[MediaItem, ...]:
    """The approved images of this delivery's text, in the approved order: for each, the bytes of
    an image of the same variant whose sha256 is the approved one, checked again on the bytes."""
    if not items:
        return ()
    wanted = {item["sha256"] for item in items}
    assets = {a.sha256: a for a in MediaAsset.objects.filter(message_id=delivery.message_id,
                                                             variant_id=delivery.variant_id, sha256__in=wanted)}
    media = []
    for item in sorted(items, key=lambda i: i.get("position", 0)):
        asset = assets.get(item["sha256"])
        if asset is None:
            raise NotApproved(f"The approved image {item['sha256'][:12]} is missing.")
        with asset.file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != item["sha256"]:
            raise NotApproved(f"The stored image {item['sha256'][:12]} is not the approved one.")
        mime = item.get("mime") or asset.mime
        media.append(MediaItem(content=content, mime=mime, alt_text=item.get("alt_text", ""),
                               filename=f"{item['sha256'][:16]}.{_EXTENSIONS.get(mime, 'img')}"))
    return tuple(media)


def build_payload(delivery: Delivery, snapshot: dict | None = None) -> Payload:
    """What goes out on this delivery, built from the approved snapshot only (never the live
    rows): the text, language, title and images of the delivery's variant (or the original)
    as the supervisor approved them. ``snapshot`` is the approved one when the caller has it.

    Raises :class:`NotApproved` when there is no approved snapshot, or when the delivery's
    variant or channel is not in it."""
    message = delivery.message
    if snapshot is None:
        snapshot = approved_snapshot(message)
    if snapshot is None:
        raise NotApproved("There is no approved version of this message.")
    text_of = snapshot_variant(snapshot, delivery.variant_id)
    if text_of is None:
        raise NotApproved("This variant is not part of the approved version.")
    # As plan_deliveries: a variant's own channels (those of the message), else every channel of the message.
    explicit = [c for c in text_of.get("channels") or () if c in snapshot["channels"]]
    if delivery.channel_id not in (explicit or snapshot["channels"]):
        raise NotApproved("This channel is not part of the approved version.")
    if getattr(delivery, "has_media", True) is False:  # delivery_begin asked already: no images at all
        media: tuple[MediaItem, ...] = ()
        if text_of.get("media"):
            raise NotApproved("The approved images are missing.")
    else:
        media = _approved_media(delivery, list(text_of.get("media") or []))
    return snapshot_payload(snapshot=snapshot, text_of=text_of, message_id=message.pk, media=media,
                            metadata={"delivery_id": str(delivery.pk)})


def delivery_send(*, delivery_id: int, token: str) -> str:
    """Send one claimed delivery. Returns the outcome: sent, transient, failed, unconfirmed or not-sent."""
    failpoint("before_send")
    # Until the platform call nothing has left us: a dropped database connection is reopened and the
    # step done again (each of its writes is conditional on the claim; core.dbretry).
    # (Fewer tries than the default: the in-flight marker inside has its own.)
    permit = with_reconnect(lambda: delivery_begin(delivery_id=delivery_id, token=token),
                            what=f"checking delivery {delivery_id}", delays=(0.05, 0.5, 2.0))
    if permit is None:
        return "not-sent"
    delivery = permit.delivery
    failpoint("in_flight")  # marked in flight, nothing sent yet

    def prepare():
        # A list channel (SMS, email) sends this text only to the recipients it was written for
        # (invariant 9), never to a list in the channel's settings.
        return (adapter_for(delivery.channel), build_payload(delivery, permit.snapshot),
                delivery_recipients(delivery, snapshot=permit.snapshot))

    try:
        adapter, payload, recipients = with_reconnect(prepare, what=f"building delivery {delivery_id}'s payload")
    except LOST as exc:  # the database stayed away: nothing left us, so it is simply tried again later
        delivery_finish(permit=permit, token=token, outcome="transient", error=f"Database unavailable: {exc}"[:500])
        return "transient"
    except Exception as exc:  # noqa: BLE001 - nothing left us yet: a configuration problem, not a send
        logger.exception("Could not prepare delivery %s", delivery_id)
        delivery_finish(permit=permit, token=token, outcome="failed", error=f"Could not prepare: {exc}"[:500])
        return "failed"
    if recipients is not None:
        if not recipients:
            delivery_skip_in_flight(permit=permit, token=token, reason="No recipient of this list is targeted "
                                                                       "by this text.")
            return "skipped"
        payload = replace(payload, recipients=recipients)
    call = call_platform(adapter, payload, idempotency_key=delivery.idempotency_key, channel_id=delivery.channel_id)
    if call.outcome == "sent":
        failpoint("after_send")
    delivery_finish(permit=permit, token=token, outcome=call.outcome, error=call.error, http_status=call.http_status,
                    external_id=call.external_id, external_url=call.external_url, retry_after=call.retry_after)
    return call.outcome
