"""Who on a list channel gets which text of a message (invariant 9).

A list channel (SMS, email) sends one copy per recipient, so each recipient gets exactly **one**
text of a message: the one written for them. The candidates on a channel are the texts planned
on it (the original and the variants, one delivery each). For each recipient, in this order:

0. the message's audience: a message that names segments goes only to recipients in at least one
   of them; a message that names none goes to everyone on the list;
1. a variant for one of their segments, in their language;
2. a variant for one of their segments, in the same base language (``pt`` for ``pt-BR``);
3. a text for no segment in their language (the original or a language variant);
4. the same, in the same base language;
5. otherwise the message's original (or, where a variant in the original's language replaces the
   original on this channel, such as an SMS-short version, that variant).

A variant for a segment never reaches anyone outside that segment, and a variant in another
language than the original never reaches anyone who does not speak it: such a person gets the
original instead. Ties break on the format (an easy-read text first for a recipient whose
segment needs easy read; SMS-short first on SMS, standard first elsewhere), then the lowest
segment id, then the lowest variant id, so the choice is deterministic. Opted-out recipients get
nothing.

The rule (:func:`choose`) is pure; :func:`delivery_recipients` applies it at send time to the
channel's current recipients and the texts the approved message plans on that channel, and
:func:`recipient_counts` applies it for the delivery plan a supervisor sees before approving.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from campaigns.models import (
    Channel,
    ChannelKind,
    Delivery,
    ListRecipient,
    Message,
    Need,
    Variant,
    VariantFormat,
)

LIST_KINDS = frozenset({ChannelKind.SMS, ChannelKind.EMAIL})


@dataclass(frozen=True)
class Text:
    """One candidate text on one channel: the original (``variant`` None) or a variant."""

    variant: int | None
    language: str
    segment: int | None
    format: str


@dataclass(frozen=True)
class Person:
    language: str
    segments: frozenset[int]
    needs: frozenset[str] = frozenset()


def text_of(message: Message, variant: Variant | None) -> Text:
    if variant is None:
        return Text(variant=None, language=message.language, segment=None, format=VariantFormat.STANDARD)
    return Text(variant=variant.pk, language=variant.language, segment=variant.segment_id, format=variant.format)


def _base(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def _tier(text: Text, person: Person, original_language: str) -> int | None:
    exact = text.language.strip().lower() == person.language.strip().lower()
    same_base = exact or _base(text.language) == _base(person.language)
    if text.segment is not None:
        if text.segment not in person.segments:
            return None
        return 1 if exact else 2 if same_base else None
    if exact:
        return 3
    if same_base:
        return 4
    return 5 if text.language.strip().lower() == original_language.strip().lower() else None


def _format_rank(text: Text, person: Person, channel_kind: str) -> int:
    order = ([VariantFormat.SMS_SHORT, VariantFormat.STANDARD, VariantFormat.EASY_READ]
             if channel_kind == ChannelKind.SMS else
             [VariantFormat.STANDARD, VariantFormat.EASY_READ, VariantFormat.SMS_SHORT])
    if Need.EASY_READ in person.needs:
        order.remove(VariantFormat.EASY_READ)
        order.insert(0, VariantFormat.EASY_READ)
    return order.index(text.format) if text.format in order else len(order)


def choose(texts: Sequence[Text], person: Person, *, audience: frozenset[int], original_language: str,
           channel_kind: str) -> Text | None:
    """The one text ``person`` gets of the candidates ``texts``, or None (not in the audience, or
    nothing planned on the channel may reach them)."""
    if audience and not person.segments & audience:
        return None
    best: tuple[tuple[int, int, int, int], Text] | None = None
    for text in texts:
        tier = _tier(text, person, original_language)
        if tier is None:
            continue
        key = (tier, _format_rank(text, person, channel_kind), text.segment or 0, text.variant or 0)
        if best is None or key < best[0]:
            best = (key, text)
    return best[1] if best else None


def _people(channel_id: int) -> Iterable[tuple[ListRecipient, Person]]:
    recipients = (ListRecipient.objects.filter(channel_id=channel_id, opted_out_at__isnull=True)
                  .prefetch_related("segments").order_by("pk"))
    for recipient in recipients.iterator(chunk_size=2000):
        segments = list(recipient.segments.all())
        yield recipient, Person(language=recipient.language, segments=frozenset(s.pk for s in segments),
                                needs=frozenset(n for s in segments for n in (s.needs or [])))


def _snapshot_text(snapshot: dict, variant_id: int | None) -> Text | None:
    if variant_id is None:
        return Text(variant=None, language=snapshot["language"], segment=None, format=VariantFormat.STANDARD)
    item = next((v for v in snapshot.get("variants", []) if v.get("id") == variant_id), None)
    if item is None:
        return None
    return Text(variant=variant_id, language=item["language"], segment=item.get("segment"), format=item["format"])


def delivery_recipients(delivery: Delivery, *, snapshot: dict | None = None) -> tuple[str, ...] | None:
    """The addresses ``delivery`` goes to, in a stable order; None when its channel is not a list.

    The candidates are the texts of the message's deliveries on the same channel (created from the
    approved message when it was scheduled); the recipients are the channel's, as they are now.
    Given the approved ``snapshot``, each text's language, segment and format and the message's
    audience are read from it, never from the live rows."""
    channel = delivery.channel
    if channel.kind not in LIST_KINDS:
        return None
    message = delivery.message
    siblings = list(Delivery.objects.filter(message_id=message.pk, channel_id=channel.pk).select_related("variant"))
    if snapshot is not None:
        texts = [text for d in siblings if (text := _snapshot_text(snapshot, d.variant_id)) is not None]
        mine = _snapshot_text(snapshot, delivery.variant_id)
        if mine is None:
            return ()
        audience = frozenset(snapshot.get("segments") or ())
        original_language = snapshot["language"]
    else:
        texts = [text_of(message, d.variant) for d in siblings]
        mine = text_of(message, delivery.variant)
        audience = frozenset(message.segments.values_list("pk", flat=True))
        original_language = message.language
    chosen = []
    for recipient, person in _people(channel.pk):
        if choose(texts, person, audience=audience, original_language=original_language,
                  channel_kind=channel.kind) == mine:
            chosen.append(recipient.address)
    return tuple(dict.fromkeys(chosen))


def recipient_counts(message: Message, planned: Sequence[tuple[Variant | None, Channel]]
                     ) -> tuple[dict[tuple[int | None, int], int], dict[int, int]]:
    """For the delivery plan: how many recipients each (variant id, channel id) reaches, and how
    many recipients of each list channel get nothing of this message (outside its audience)."""
    audience = frozenset(message.segments.values_list("pk", flat=True))
    by_channel: dict[int, list[Text]] = {}
    kinds: dict[int, str] = {}
    for variant, channel in planned:
        if channel.kind in LIST_KINDS:
            by_channel.setdefault(channel.pk, []).append(text_of(message, variant))
            kinds[channel.pk] = channel.kind
    counts: Counter[tuple[int | None, int]] = Counter()
    missed: Counter[int] = Counter()
    for channel_id, texts in by_channel.items():
        for _recipient, person in _people(channel_id):
            text = choose(texts, person, audience=audience, original_language=message.language,
                          channel_kind=kinds[channel_id])
            if text is None:
                missed[channel_id] += 1
            else:
                counts[(text.variant, channel_id)] += 1
    return dict(counts), dict(missed)
