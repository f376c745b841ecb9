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
import json
import logging
import time
from collections.abc import Mapping
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
from engage.inbound.webhooks import (
    MASTODON_TOO_LONG,
    MASTODON_TYPES,
    MASTODON_UNREADABLE,
    MAX_TEXT_CHARS,
    IgnoredItem,
    InboundItem,
    WebhookRejected,
    parse_partner,
    parse_telegram_update,
    parse_twilio_sms,
    read_mastodon_notifications,
    verify_partner,
    verify_telegram,
    verify_twilio,
)
from engage.models import InboundCursor, RejectedInbound, Reply, ReplySource

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


def _raw_items(body: bytes, count: int) -> list[Any]:
    """The part of a partner's JSON body that each item came from (the item itself in a batch)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [None] * count
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        return list(document["items"])[:count]
    return [document] * count


def inbound_url(channel: Channel, url: str) -> str:
    """The URL a platform signed its request for: config ``inbound_url`` when set, else ``url``.

    Twilio signs the exact URL configured in its console. Behind a proxy that terminates TLS,
    Django sees ``http://`` unless ``ENGAGE_BEHIND_PROXY``/``ENGAGE_TRUSTED_PROXIES`` make it
    trust ``X-Forwarded-Proto``; ``inbound_url`` (the URL given to the platform, as the channel
    page shows it) settles it whatever the proxy does.
    """
    return str((channel.config or {}).get("inbound_url") or url)


def inbound_parse(
    *, channel: Channel, headers: Mapping[str, str], body: bytes, url: str, form: Mapping[str, str]
) -> tuple[list[InboundItem], list[Any]]:
    """Verify the request by the channel's scheme and read its replies; raises WebhookRejected.

    The items are a :class:`engage.inbound.webhooks.Parsed` list: its ``ignored`` says what the request
    carried that is not stored, and why."""
    secrets = channel.get_secrets()
    config = channel.config or {}
    if channel.kind == ChannelKind.TELEGRAM:
        verify_telegram(headers=headers, secret_token=secrets.get("secret_token") or secrets.get("inbound_secret", ""))
        items = parse_telegram_update(body, own_chat=str(config.get("chat_id") or ""))
        update = json.loads(body.decode("utf-8")) if items else None
        return items, [update] * len(items)
    if channel.kind == ChannelKind.SMS:
        params = {key: str(value) for key, value in form.items()}
        signature = next((str(v) for k, v in headers.items() if k.lower().replace("_", "-")
                          in ("x-twilio-signature", "http-x-twilio-signature")), "")
        verify_twilio(url=inbound_url(channel, url), params=params, signature=signature,
                      auth_token=secrets.get("auth_token", ""))
        items = parse_twilio_sms(params)
        return items, [params] * len(items)
    if channel.kind == ChannelKind.WEBHOOK:
        verify_partner(headers=headers, body=body,
                       secret=secrets.get("inbound_secret") or secrets.get("signing_secret", ""))
        items = parse_partner(body)
        return items, _raw_items(body, len(items))
    raise WebhookRejected("channel.no_inbound", "This channel does not take webhooks.", 404)


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

MASTODON_PAGE = 40
MASTODON_MAX_PAGES = 10


@dataclass(frozen=True)
class MastodonPollResult:
    """What one poll did: ``new`` replies stored, the notifications ``ignored`` (each with its
    reason, one of ``engage.inbound.webhooks.MASTODON_IGNORE_REASONS``) and the ``error`` that stopped it."""

    new: int
    ignored: list[IgnoredItem]
    error: str = ""


def _id_order(value: str) -> tuple[int, str]:
    return (len(value), value) if value.isdigit() else (0, value)


def _notification_params(last_id: str) -> list[tuple[str, str | int]]:
    """The query of ``GET /api/v1/notifications``: mentions and quotes (see
    ``engage.inbound.webhooks.MASTODON_TYPES``), including those the account's notification policy filters
    (``include_filtered``, Mastodon 4.3+: otherwise a private mention from an account we do not
    follow, say, never reaches the inbox; older instances ignore the parameter)."""
    params: list[tuple[str, str | int]] = [("types[]", kind) for kind in MASTODON_TYPES]
    params += [("include_filtered", "true"), ("limit", MASTODON_PAGE)]
    if last_id:
        params.append(("min_id", last_id))
    return params


def mastodon_poll(*, channel: Channel, http: httpx.Client | None = None) -> MastodonPollResult:
    """Store the mentions and quotes of ``channel``'s account since the last poll.

    ``GET /api/v1/notifications?types[]=mention&types[]=quote&include_filtered=true&min_id=<last>``,
    page by page (oldest pages first), at most :data:`MASTODON_MAX_PAGES` pages a run. The cursor
    moves only after a page is stored, so a crash means the page is fetched again and deduplicated,
    never lost. A notification that is not a reply, or cannot be read, is left out and listed in
    the result with its reason, so it never holds up the ones after it.
    """
    from platforms.base import AdapterError
    from platforms.http import Redactor, client_from_config, json_or_empty, send

    config, secrets = channel.config or {}, channel.get_secrets()
    base = str(config.get("instance_url") or "").rstrip("/")
    token = secrets.get("access_token", "")
    cursor, _ = InboundCursor.objects.get_or_create(channel=channel)
    if not base or not token:
        error = "Missing instance_url or access_token."
        InboundCursor.objects.filter(pk=cursor.pk).update(polled_at=timezone.now(), last_error=error)
        return MastodonPollResult(new=0, ignored=[], error=error)
    client = http or client_from_config(config)
    redact = Redactor([token])
    last_id, new, error = cursor.last_id, 0, ""
    ignored: list[IgnoredItem] = []
    try:
        for _ in range(MASTODON_MAX_PAGES):
            response = send(client, "GET", f"{base}/api/v1/notifications", what="mastodon notifications",
                            retry_safe=True, redact=redact, params=_notification_params(last_id),
                            headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                error = f"mastodon notifications: HTTP {response.status_code}"
                break
            page = json_or_empty(response)
            if isinstance(page, list) and not page:
                break
            read = read_mastodon_notifications(page)
            stored = replies_store(channel=channel, items=read.items, raws=read.raws)
            new += sum(1 for s in stored if s.created)
            ignored += read.ignored
            ids = [str(n.get("id")) for n in page if isinstance(n, dict) and n.get("id") is not None]
            if ids:
                last_id = max(ids, key=_id_order)
                InboundCursor.objects.filter(pk=cursor.pk).update(last_id=last_id)
            if len(page) < MASTODON_PAGE:
                break
    except AdapterError as exc:
        error = str(exc)[:500]
    except WebhookRejected as exc:  # the instance's answer was not what Mastodon sends: never quote it
        error = f"mastodon notifications: the instance's answer could not be read ({exc.code})"
    finally:
        if http is None:
            client.close()
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
