"""Reads for the public pages and feeds. No writes.

*Published* means: at least one delivery on a ``public`` channel is SENT, and the message is
not withdrawn. The texts shown are exactly those whose public delivery was sent (the
original and/or variants), never a variant meant for another channel only (an SMS-short
text, say). A withdrawn message disappears from every list and feed; its own page answers
410 with a short note, so a link shared before the withdrawal explains itself.

The time shown is when the text first went out on the public channel (``public_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from campaigns.models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Event,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    Rumour,
    RumourChange,
    Segment,
    Urgency,
    VariantFormat,
)
from engage.public.i18n import direction_of

EVENT_PAGE_UPDATES = 50
ALERT_URGENCIES = (Urgency.PRIORITY, Urgency.EMERGENCY)


def _public_sent(message_ref: str = "pk") -> QuerySet[Delivery]:
    return Delivery.objects.filter(message=OuterRef(message_ref), channel__kind=ChannelKind.PUBLIC,
                                   status=DeliveryStatus.SENT)


def published_messages() -> QuerySet[Message]:
    first_sent = (Delivery.objects.filter(message=OuterRef("pk"), channel__kind=ChannelKind.PUBLIC,
                                          status=DeliveryStatus.SENT)
                  .values("message").annotate(first=Min("sent_at")).values("first")[:1])
    latest_correction = (Message.objects.filter(correction_of=OuterRef("pk"))
                         .exclude(status=MessageStatus.WITHDRAWN)
                         .filter(Exists(_public_sent()))
                         .order_by("-id").values("pk")[:1])
    return (
        Message.objects.filter(Exists(_public_sent()))
        .exclude(status=MessageStatus.WITHDRAWN)
        .annotate(public_at=Subquery(first_sent), corrected_by_id=Subquery(latest_correction))
        .select_related("campaign__event__published_revision", "team")
        .prefetch_related(
            Prefetch("deliveries", to_attr="public_deliveries",
                     queryset=Delivery.objects.filter(channel__kind=ChannelKind.PUBLIC, status=DeliveryStatus.SENT)
                     .select_related("variant").order_by("id")),
            Prefetch("media", queryset=MediaAsset.objects.order_by("position", "id")),
            Prefetch("versions", to_attr="approved_versions",
                     queryset=MessageVersion.objects.filter(version=F("message__approved_version"))
                     .only("message_id", "version", "content_hash", "snapshot")),
        )
        .order_by(F("public_at").desc(nulls_last=True), "-id")
    )


def withdrawn_public_message(pk: int) -> Message | None:
    """A message that was on the public pages and has since been withdrawn (its page says so)."""
    was_public = Delivery.objects.filter(message=OuterRef("pk"), channel__kind=ChannelKind.PUBLIC,
                                         sent_at__isnull=False)
    return (Message.objects.filter(pk=pk, status=MessageStatus.WITHDRAWN).filter(Exists(was_public))
            .select_related("team", "campaign__event").first())


@dataclass(frozen=True)
class PublicText:
    language: str
    format: str
    body: str
    variant_id: int | None

    @property
    def dir(self) -> str:  # noqa: A003 - the HTML attribute's name
        return direction_of(self.language)

    @property
    def easy_read(self) -> bool:
        return self.format == VariantFormat.EASY_READ


def approved_content(message: Message) -> dict[str, Any] | None:
    """The approved version's snapshot: what the public pages, feeds and CAP show, never the live rows."""
    from campaigns.services.content import approved_snapshot

    return approved_snapshot(message)


def public_texts(message: Message) -> list[PublicText]:
    """The texts that went out on the public channel, as approved: the original first, then variants.
    A text the approved version does not have is not shown."""
    from campaigns.services.content import snapshot_variant

    snapshot = approved_content(message)
    if snapshot is None:
        return []
    texts: list[PublicText] = []
    seen: set[int | None] = set()
    for delivery in getattr(message, "public_deliveries", None) or _public_deliveries(message):
        if delivery.variant_id in seen:
            continue
        seen.add(delivery.variant_id)
        approved = snapshot_variant(snapshot, delivery.variant_id)
        if approved is None:
            continue
        fmt = approved.get("format", VariantFormat.STANDARD)
        if fmt != VariantFormat.SMS_SHORT:
            texts.append(PublicText(approved["language"], fmt, approved["body"], delivery.variant_id))
    texts.sort(key=lambda t: (t.variant_id is not None, t.language, t.format))
    return texts


def _public_deliveries(message: Message) -> list[Delivery]:
    return list(Delivery.objects.filter(message=message, channel__kind=ChannelKind.PUBLIC,
                                        status=DeliveryStatus.SENT).select_related("variant").order_by("id"))


@dataclass
class Chosen:
    text: PublicText
    fallback: bool                      # the visitor's first language was not available
    others: list[PublicText] = field(default_factory=list)
    has_easy_read: bool = False


def pick_text(message: Message, prefs: tuple[str, ...] | list[str], *, easy_read: bool = False) -> Chosen:
    """The text in the visitor's best language (easy read if asked for and there is one),
    falling back to the original."""
    texts = public_texts(message)
    if not texts:  # not published publicly: callers filter these out; be safe anyway (approved words only)
        snapshot = approved_content(message) or {}
        texts = [PublicText(snapshot.get("language", message.language), VariantFormat.STANDARD,
                            snapshot.get("body", ""), None)]
    chosen: PublicText | None = None
    for lang in prefs:
        in_lang = [t for t in texts if t.language.split("-")[0] == lang]
        if not in_lang:
            continue
        wanted = [t for t in in_lang if t.easy_read == easy_read]
        chosen = (wanted or in_lang)[0]
        break
    fallback = chosen is None or (bool(prefs) and chosen.language.split("-")[0] != prefs[0])
    if chosen is None:
        chosen = next((t for t in texts if t.variant_id is None), texts[0])
    others = [t for t in texts if t != chosen]
    has_easy = any(t.easy_read and t.language == chosen.language for t in texts)
    return Chosen(text=chosen, fallback=fallback, others=others, has_easy_read=has_easy)


def media_for(message: Message, text: PublicText) -> list[MediaAsset]:
    """The message's own images, and those of the chosen variant, as approved: an image whose bytes'
    hash is in the approved version, in its approved order, with its approved alt text."""
    from campaigns.services.content import snapshot_variant

    snapshot = approved_content(message)
    if snapshot is None:
        return []
    approved: dict[tuple[int | None, str], dict[str, Any]] = {
        (None, item["sha256"]): item for item in snapshot.get("media", [])}
    variant = snapshot_variant(snapshot, text.variant_id) if text.variant_id is not None else None
    for item in (variant or {}).get("media", []):
        approved[(text.variant_id, item["sha256"])] = item
    chosen = []
    for asset in message.media.all():
        item = approved.get((asset.variant_id, asset.sha256))
        if item is not None:
            asset.alt_text = item.get("alt_text", "")  # shown as approved (not saved)
            chosen.append((item.get("position", 0), asset.variant_id is not None, asset.pk, asset))
    return [asset for *_, asset in sorted(chosen, key=lambda c: c[:3])]


# --- lists and filters -------------------------------------------------------------------------

def news(*, event_id: int | None = None, area: str = "") -> QuerySet[Message]:
    qs = published_messages()
    if event_id is not None:
        qs = qs.filter(campaign__event_id=event_id, campaign__event__in=_published_events())
    if area:
        qs = qs.filter(segments__in=segment_ids_for_area(area)).distinct()
    return qs


def segment_ids_for_area(area: str) -> list[int]:
    wanted = area.strip().casefold()
    return [pk for pk, areas in Segment.objects.values_list("pk", "areas")
            if any(str(a).strip().casefold() == wanted for a in areas or [])]


def filter_choices() -> dict[str, list]:
    """Public events that have published updates, and the areas those updates target."""
    published = published_messages().order_by()
    rows = (_published_events().filter(campaigns__messages__in=published.values("pk"))
            .distinct().order_by("-published_revision__starts_at")
            .values_list("pk", "published_revision__snapshot"))
    events = [(pk, (snapshot or {}).get("name", "")) for pk, snapshot in rows]
    areas: set[str] = set()
    for values in Segment.objects.filter(messages__in=published.values("pk")).values_list("areas", flat=True):
        areas.update(str(a).strip() for a in values or [] if str(a).strip())
    return {"events": events, "areas": sorted(areas, key=str.casefold)}


def _published_events() -> QuerySet[Event]:
    """Events with a published revision that is public (and not taken off the pages since).

    The public pages never read an event's own columns, only its published revision: see
    :func:`public_event`."""
    return Event.objects.filter(is_public=True, published_revision__isnull=False,
                                published_revision__is_public=True)


def live_events(*, now: datetime | None = None) -> list[Event]:
    """Public events (as published) that have not finished (or finished in the last day), soonest first."""
    now = now or timezone.now()
    rows = (_published_events()
            .filter(Q(published_revision__ends_at__isnull=True)
                    | Q(published_revision__ends_at__gte=now - timedelta(days=1)))
            .filter(published_revision__starts_at__lte=now + timedelta(days=14))
            .select_related("team", "published_revision").order_by("published_revision__starts_at")[:10])
    return [event.published_revision.as_event(event) for event in rows]


# --- the live event page -------------------------------------------------------------------------

def public_event(pk: int) -> Event | None:
    """The event as its last published revision says (an unsaved Event), or None if not public."""
    event = _published_events().filter(pk=pk).select_related("team", "published_revision").first()
    return event.published_revision.as_event(event) if event is not None else None


def public_event_of(message: Message) -> Event | None:
    """The published version of a message's event, for a news item (None if the event is not public)."""
    if not message.campaign_id or not message.campaign.event_id:
        return None
    return message.campaign.event.public_version()


def event_updates(event: Event, *, limit: int = EVENT_PAGE_UPDATES) -> list[Message]:
    return list(published_messages().filter(campaign__event_id=event.pk)[:limit])


def public_rumours(event: Event) -> list[Rumour]:
    return list(Rumour.objects.filter(event_id=event.pk, published_at__isnull=False)
                .order_by("-status_changed_at", "-id"))


def corrections_log(event: Event) -> list[RumourChange]:
    return list(RumourChange.objects.filter(rumour__event_id=event.pk, rumour__published_at__isnull=False)
                .select_related("rumour").order_by("-created_at", "-id"))


# --- alerts (CAP) ---------------------------------------------------------------------------------

def is_alert(message: Message) -> bool:
    """Priority and emergency messages are CAP alerts; so is a correction of an alert."""
    seen = 0
    current: Message | None = message
    while current is not None and seen < 10:
        if current.urgency in ALERT_URGENCIES:
            return True
        current = current.correction_of if current.correction_of_id else None
        seen += 1
    return False


def alert_message(pk: int) -> Message | None:
    """A published alert, or a withdrawn one (whose alert is now a Cancel)."""
    message = published_messages().filter(pk=pk).select_related("correction_of").first()
    if message is None:
        withdrawn = withdrawn_public_message(pk)
        if withdrawn is None:
            return None
        message = (Message.objects.filter(pk=pk).annotate(public_at=Subquery(
            Delivery.objects.filter(message=OuterRef("pk"), channel__kind=ChannelKind.PUBLIC,
                                    sent_at__isnull=False).values("message").annotate(first=Min("sent_at"))
            .values("first")[:1]))
            .select_related("team", "campaign__event", "correction_of")
            .prefetch_related(Prefetch("deliveries", to_attr="public_deliveries",
                                       queryset=Delivery.objects.filter(channel__kind=ChannelKind.PUBLIC,
                                                                        sent_at__isnull=False)
                                       .select_related("variant").order_by("id")))
            .first())
    if message is None or not is_alert(message):
        return None
    if message.correction_of_id:
        # The original's <sent> as its own alert printed it, so that <references> names it exactly.
        message.correction_of.public_at = first_public_at(message.correction_of_id)
    return message


def first_public_at(message_id: int):
    """When a message first went out on the public channel (kept after a withdrawal), or None."""
    return (Delivery.objects.filter(message_id=message_id, channel__kind=ChannelKind.PUBLIC, sent_at__isnull=False)
            .aggregate(first=Min("sent_at"))["first"])


def current_alerts(*, now: datetime | None = None, default_hours: int = 24) -> list[Message]:
    """Alerts for the CAP feed: published ones not yet expired (or, without an expiry, from the
    last ``default_hours``), and those withdrawn in that time (listed as Cancel)."""
    now = now or timezone.now()
    since = now - timedelta(hours=default_hours)
    candidates = list(published_messages().select_related("correction_of")
                      .filter(Q(urgency__in=ALERT_URGENCIES) | Q(correction_of__isnull=False))[:200])
    out = []
    for message in candidates:
        if not is_alert(message):
            continue
        expires = _expiry(message)
        if expires is not None and expires <= now:
            continue
        if expires is None and message.public_at is not None and message.public_at < since:
            continue
        out.append(message)
    for pk in (Message.objects.filter(status=MessageStatus.WITHDRAWN, withdrawn_at__gte=since)
               .values_list("pk", flat=True)[:100]):
        message = alert_message(pk)
        if message is not None:
            out.append(message)
    return out


def _expiry(message: Message) -> datetime | None:
    from django.utils.dateparse import parse_datetime

    raw = (message.cap or {}).get("expires")
    if not raw:
        return None
    value = parse_datetime(str(raw))
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value
