"""Taking replies in: webhooks, Mastodon polling and the public form.

Invariant 3: a reply acknowledged with a 2xx is in the database and will be processed, even if
the broker is down. So, in this order:

1. the request is verified (per channel kind) and parsed; anything wrong is refused with a
   4xx and recorded as a :class:`RejectedInbound` row;
2. each reply is inserted in its own transaction, deduplicated by the unique
   (channel, provider id) constraint: a second delivery of the same update finds the row and
   is acknowledged as a duplicate, also under concurrency (the loser of the race gets an
   IntegrityError and reads the winner's row);
3. only after the commit is a processing task enqueued (``transaction.on_commit``); if the broker
   is unreachable the failure is logged and swallowed, never turned into an error;
4. the view answers 2xx only after every insert has committed;
5. the sweeper (``engage.sweep``, every few seconds) processes any reply still unprocessed a few
   seconds after it was stored, so nothing depends on the broker message arriving.

The text is sanitised here, on the way in (invariant 6), so ``Reply.text`` is always plain,
safe text; the raw form is kept beside it until retention.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.models import Membership, Role, Team
from accounts.teams import lineage, parent_map, with_descendants
from campaigns.models import Channel, ChannelKind, Message
from core.errors import InvalidInput, NotFound
from core.ids import parse_id
from core.queue import enqueue
from core.ratelimit import count_over_limit
from core.sanitize import sanitize_text
from engage.inbound.identity import author_key
from engage.inbound.inbound_drops import record_drop, record_ignored
from engage.models import InboundCursor, RejectedInbound, Reply, ReplySource
from platforms.inbound import MAX_TEXT_CHARS, InboundItem, WebhookRequest, read_webhook
from platforms.mastodon.inbound import (
    MASTODON_TOO_LONG,
    MASTODON_UNREADABLE,
    IgnoredItem,
    PollFailed,
    notification_pages,
)

logger = logging.getLogger(__name__)

INBOUND_KINDS = frozenset({ChannelKind.TELEGRAM, ChannelKind.SMS, ChannelKind.WEBHOOK})
PUBLIC_FORM_MAX_CHARS = MAX_TEXT_CHARS  # as much as a webhook may carry


@dataclass(frozen=True)
class Stored:
    reply_id: int
    created: bool


# --- helpers ----------------------------------------------------------------------------------

def _scrub(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL characters: replace them (raw data only)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub(str(k)): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def enqueue_processing(reply_id: int) -> None:
    """Ask a worker to process the reply now. Losing this message is harmless: the sweeper
    processes anything left unprocessed, so a broker failure is logged, never raised."""
    if not enqueue("engage.process_reply", reply_id=reply_id):
        logger.info("Reply %s not enqueued; the sweeper will process it.", reply_id)


# --- storing ----------------------------------------------------------------------------------

def reply_store(
    *,
    team_id: int,
    channel: Channel | None,
    source: str,
    provider_id: str,
    text: str,
    author_handle: str = "",
    author_name: str = "",
    in_reply_to: str = "",
    received_at: datetime | None = None,
    raw_payload: Any = None,
    message_id: int | None = None,
) -> Stored:
    """Insert one reply (its own transaction) or find the one already stored with that id."""
    now = timezone.now()
    when = min(received_at or now, now)  # a sender's clock ahead of ours must not bend the metrics
    provider_id = _scrub(provider_id.strip())[:200]
    reply = Reply(
        team_id=team_id,
        channel=channel,
        source=source,
        provider_id=provider_id,
        in_reply_to=_scrub(in_reply_to)[:200],
        raw_payload=_scrub(raw_payload),
        raw_text=_scrub(text or ""),
        text=sanitize_text(text or "", max_length=MAX_TEXT_CHARS),
        author_handle=sanitize_text(author_handle, max_length=200),
        author_name=sanitize_text(author_name, max_length=200),
        author_key=author_key(sanitize_text(author_handle, max_length=200)),
        received_at=when,
        created_at=now,
        message_id=message_id,
    )
    try:
        with transaction.atomic():
            reply.save(force_insert=True)
            transaction.on_commit(partial(enqueue_processing, reply.pk))
    except IntegrityError:
        existing = Reply.objects.filter(provider_id=provider_id)
        existing = existing.filter(channel=channel) if channel is not None else existing.filter(
            channel__isnull=True, source=source)
        found = existing.values_list("pk", flat=True).first()
        if found is None:
            raise
        return Stored(reply_id=found, created=False)
    return Stored(reply_id=reply.pk, created=True)


def replies_store(*, channel: Channel, items: list[InboundItem], raws: list[Any]) -> list[Stored]:
    return [
        reply_store(team_id=channel.team_id, channel=channel, source=item.kind, provider_id=item.provider_id,
                    text=item.text, author_handle=item.author_handle, author_name=item.author_name,
                    in_reply_to=item.in_reply_to, received_at=item.received_at, raw_payload=raw)
        for item, raw in zip(items, raws, strict=True)
    ]


# --- webhooks ---------------------------------------------------------------------------------

# Each webhook names its channel; during a burst the same few channels are looked up thousands of
# times a second. They are kept in this process for CHANNEL_TTL seconds, and forgotten at once when
# saved here (post_save); a change made in another process is seen within CHANNEL_TTL.
CHANNEL_TTL = 2.0
_channels: dict[int, tuple[float, Channel | None]] = {}


def _forget_channel(sender: Any, instance: Channel, **kwargs: Any) -> None:
    _channels.pop(instance.pk, None)


post_save.connect(_forget_channel, sender=Channel, dispatch_uid="engage.ingest.forget_channel")


def inbound_channel(channel_id: int | str) -> Channel:
    """The active channel that takes webhooks at this id, or NotFound."""
    pk = parse_id(channel_id)  # int() would take "٣", " 3" and "3_0", and 2**64 would overflow the query
    if pk is None:
        raise NotFound("No such channel.")
    now = time.monotonic()
    cached = _channels.get(pk)
    if cached is not None and now - cached[0] < CHANNEL_TTL:
        channel = cached[1]
    else:
        channel = Channel.objects.filter(pk=pk, is_active=True, kind__in=INBOUND_KINDS).first()
        if len(_channels) > 1000:
            _channels.clear()
        _channels[pk] = (now, channel)
    if channel is None:
        raise NotFound("No such channel.")
    return channel


def inbound_parse(
    *, channel: Channel, headers: Mapping[str, str], body: bytes, url: str, form: Mapping[str, str]
) -> tuple[list[InboundItem], list[Any]]:
    """Verify the request by the channel's scheme and read its replies (``platforms.inbound.read_webhook``);
    raises WebhookRejected.

    The items are a :class:`platforms.inbound.Parsed` list: its ``ignored`` says what the request
    carried that is not stored, and why."""
    return read_webhook(channel.kind, WebhookRequest(headers=headers, body=body, url=url, form=form),
                        config=channel.config or {}, secrets=channel.get_secrets())


def inbound_receive(
    *, channel: Channel, headers: Mapping[str, str], body: bytes, url: str, form: Mapping[str, str]
) -> list[Stored]:
    """Verify, parse and store. Every reply is committed when this returns; every item the
    request carried that is not stored is counted (``engage.inbound.inbound_drops``)."""
    items, raws = inbound_parse(channel=channel, headers=headers, body=body, url=url, form=form)
    stored = replies_store(channel=channel, items=items, raws=raws)
    record_ignored(channel=channel, ignored=getattr(items, "ignored", ()))
    return stored


def inbound_reject_record(
    *, channel: Channel | None, channel_ref: str, code: str, status: int, message: str, remote_addr: str | None,
    body: bytes,
) -> None:
    """Keep a note of a refused request: the reason, never the (untrusted) body or headers.

    Refusals are free to send, so what they can store is capped: at most
    ``ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS`` rows per caller address and
    ``ENGAGE_INBOUND_REJECT_LOG_TOTAL`` in all per hour; past a cap the refusal is only logged.
    """
    per_address = (3600, settings.ENGAGE_INBOUND_REJECT_LOG_PER_ADDRESS, "address")
    total = (3600, settings.ENGAGE_INBOUND_REJECT_LOG_TOTAL, "total")
    if (count_over_limit(ident=remote_addr or "unknown", prefix="inbound-rejected", limits=[per_address])
            or count_over_limit(ident="all", prefix="inbound-rejected", limits=[total])):
        logger.warning("Refused webhook request not recorded (cap reached): %s %s", status, code[:40])
        return
    try:
        with transaction.atomic():
            RejectedInbound.objects.create(
                # NUL is not storable text on PostgreSQL: replaced, so the refusal is still on record.
                channel=channel, channel_ref=str(channel_ref).replace("\x00", "\ufffd")[:40], code=code[:40],
                status=status, message=message[:200], remote_addr=remote_addr or None, body_size=len(body),
                body_sha256=hashlib.sha256(body).hexdigest(),
            )
    except Exception:  # noqa: BLE001 - recording a refusal must never turn it into a 500
        logger.warning("Could not record a rejected inbound request (%s)", code, exc_info=True)


# --- the public form --------------------------------------------------------------------------

CONTACT_TEAM_SETTING = "contact_team"  # on a force's settings: the team that receives its contact form


def contact_force(slug: str | None = None) -> Team | None:
    """The force (a top-level team) whose contact form this is.

    ``/contact/<slug>/`` names a force by its slug (another team's slug is no force: None). Plain
    ``/contact/`` is the deployment's default force, ``ENGAGE_DEFAULT_CONTACT_FORCE``, or, when that
    is not set, the only force there is."""
    if slug is not None:
        return Team.objects.filter(slug=slug, parent__isnull=True).first()
    default = settings.ENGAGE_DEFAULT_CONTACT_FORCE
    if default:
        team = Team.objects.filter(slug=default).first()
        if team is None:
            logger.warning("ENGAGE_DEFAULT_CONTACT_FORCE names no team (%r).", default)
            return None
        if team.parent_id is not None:  # the former ENGAGE_CONTACT_TEAM could name a unit: use its force
            team = Team.objects.get(pk=lineage(team.pk, parent_map())[-1])
        return team
    forces = list(Team.objects.filter(parent__isnull=True).order_by("id")[:2])
    return forces[0] if len(forces) == 1 else None


def contact_team_for(force: Team) -> Team:
    """Which team of ``force`` receives its contact form: the one a platform operator chose
    (``accounts.services.force_contact_route_set``); else the force itself when it has liaison
    officers; else the first of its teams that has one; else the force. Never a team of another force."""
    inside = with_descendants({force.pk}, parent_map())
    chosen = (force.settings or {}).get(CONTACT_TEAM_SETTING)
    if isinstance(chosen, int) and chosen in inside:
        return Team.objects.get(pk=chosen)
    liaisons = set(Membership.objects.filter(role=Role.LIAISON, team_id__in=inside).values_list("team_id", flat=True))
    if force.pk in liaisons or not liaisons:
        return force
    return Team.objects.get(pk=min(liaisons))


def public_contact_team(slug: str | None = None) -> Team | None:
    """Whose inbox the contact form of force ``slug`` (or of the default force) goes to."""
    force = contact_force(slug)
    return contact_team_for(force) if force is not None else None


def reply_submit_public(
    *, team: Team, text: str, nonce: str, contact: str = "", name: str = "", message: Message | None = None,
    language: str = "",
) -> Stored:
    """A message from the public form. ``nonce`` comes from the form itself and the id also covers
    the text, so submitting the same form twice (a double click, a refresh) stores it once, while
    two different messages can never be taken for one (even if a cache served the same form twice)."""
    if not (text or "").strip():
        raise InvalidInput("Write your message.", fields={"text": ["This field is required."]})
    if len(text) > PUBLIC_FORM_MAX_CHARS:
        raise InvalidInput(f"Your message is longer than {PUBLIC_FORM_MAX_CHARS} characters.",
                           fields={"text": ["Too long."]})
    if message is not None and message.team_id != team.pk:
        raise NotFound("No such news item.")
    raw = {"text": text, "contact": contact, "name": name, "news": message.pk if message else None,
           "page_language": language[:16]}
    return reply_store(
        team_id=team.pk, channel=None, source=ReplySource.WEB,
        provider_id=f"web-{nonce}-{hashlib.sha256(text.encode()).hexdigest()[:16]}", text=text,
        author_handle=contact, author_name=name, in_reply_to=str(message.pk) if message else "",
        raw_payload={"form": raw}, message_id=message.pk if message else None,
    )


# --- Mastodon polling -------------------------------------------------------------------------

@dataclass(frozen=True)
class MastodonPollResult:
    """What one poll did: ``new`` replies stored, the notifications ``ignored`` (each with its
    reason, one of ``platforms.mastodon.inbound.MASTODON_IGNORE_REASONS``) and the ``error`` that stopped it."""

    new: int
    ignored: list[IgnoredItem]
    error: str = ""


def mastodon_poll(*, channel: Channel, http: httpx.Client | None = None) -> MastodonPollResult:
    """Store the mentions and quotes of ``channel``'s account since the last poll.

    ``platforms.mastodon.inbound.notification_pages`` fetches and reads them page by page; each page
    is stored before the cursor moves past it, so a crash means the page is fetched again and
    deduplicated, never lost. A notification that is not a reply, or cannot be read, is left out and
    listed in the result with its reason (and counted, ``engage.inbound.inbound_drops``), so it never
    holds up the ones after it.
    """
    cursor, _ = InboundCursor.objects.get_or_create(channel=channel)
    new, error = 0, ""
    ignored: list[IgnoredItem] = []
    pages = notification_pages(config=channel.config or {}, secrets=channel.get_secrets(), since_id=cursor.last_id,
                               http=http)
    try:
        with closing(pages):  # the HTTP client it opened is closed even if storing fails
            for page in pages:
                stored = replies_store(channel=channel, items=page.items, raws=page.raws)
                new += sum(1 for s in stored if s.created)
                ignored += page.ignored
                if page.last_id:
                    InboundCursor.objects.filter(pk=cursor.pk).update(last_id=page.last_id)
    except PollFailed as exc:
        error = str(exc)
    unreadable = sum(1 for item in ignored if item.reason in (MASTODON_UNREADABLE, MASTODON_TOO_LONG))
    if unreadable and not error:
        error = (f"mastodon notifications: {unreadable} notification{'s' if unreadable > 1 else ''} could not "
                 "be read and were left out")
    InboundCursor.objects.filter(pk=cursor.pk).update(polled_at=timezone.now(), last_error=error[:500])
    if error:
        logger.warning("Polling channel %s: %s", channel.pk, error)
    for item in ignored:
        logger.info("Polling channel %s left out notification %r: %s (%s)", channel.pk, item.provider_id,
                    item.reason, item.detail)
        record_drop(channel=channel, reason=item.reason, detail=item.detail)
    return MastodonPollResult(new=new, ignored=ignored, error=error)


def mastodon_poll_all() -> dict[int, int]:
    results: dict[int, int] = {}
    for channel in Channel.objects.filter(kind=ChannelKind.MASTODON, is_active=True):
        if (channel.config or {}).get("poll_mentions", True) is False:
            continue
        results[channel.pk] = mastodon_poll(channel=channel).new
    return results
