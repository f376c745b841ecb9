"""Targeting: the delivery plan for a message's segments, and the gaps in its coverage.

For each targeted segment the plan proposes the team's channels the segment actually uses (in
the segment's order of preference), the language to write in (its first language) and the
formats its needs call for. The coverage check reports every segment whose first language has
no text, whose channels the message does not use, or whose needs are not met. Gaps are warnings
that the approver sees too; a team can make them errors that block submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext

from campaigns.models import Channel, ChannelKind, Message, Need, Segment, VariantFormat


@dataclass(frozen=True)
class Gap:
    code: str
    segment: int
    segment_name: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "segment": self.segment, "segment_name": self.segment_name,
                "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class SegmentPlan:
    segment: int
    segment_name: str
    channels: list[int]             # the team's channels this segment uses, in its order of preference
    channel_kinds: list[str]
    language: str                   # the segment's first language ("" if none given)
    other_languages: list[str]
    formats: list[str]              # variant formats its needs call for
    gaps: list[Gap] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "segment_name": self.segment_name, "channels": self.channels,
                "channel_kinds": self.channel_kinds, "language": self.language,
                "other_languages": self.other_languages, "formats": self.formats,
                "gaps": [g.as_dict() for g in self.gaps]}


@dataclass(frozen=True)
class Content:
    """What a message offers, reduced to what coverage needs (so it can be checked without the ORM)."""

    channel_kinds: frozenset[str]
    languages: frozenset[str]                      # the original's and every variant's
    formats_by_language: dict[str, frozenset[str]]
    has_links: bool


_NEEDS_FORMAT = {Need.EASY_READ: VariantFormat.EASY_READ}
# Needs met by a channel: large text and screen readers by the accessible public pages; low
# bandwidth by SMS or the light public pages.
_NEEDS_CHANNEL = {
    Need.LARGE_TEXT: {ChannelKind.PUBLIC, ChannelKind.EMAIL},
    Need.SCREEN_READER: {ChannelKind.PUBLIC, ChannelKind.EMAIL},
    Need.LOW_BANDWIDTH: {ChannelKind.SMS, ChannelKind.PUBLIC},
}


def content_of(message: Message) -> Content:
    variants = list(message.variants.all())
    formats: dict[str, set[str]] = {message.language: {VariantFormat.STANDARD}}
    for variant in variants:
        formats.setdefault(variant.language, set()).add(variant.format)
    return Content(
        channel_kinds=frozenset(c.kind for c in message.channels.all()),
        languages=frozenset(formats),
        formats_by_language={k: frozenset(v) for k, v in formats.items()},
        has_links=bool(message.links),
    )


def segment_gaps(*, segment: Segment, content: Content) -> list[Gap]:
    gaps: list[Gap] = []
    name = segment.name
    first = segment.languages[0] if segment.languages else ""
    if first and first not in content.languages:
        gaps.append(Gap("coverage.language", segment.pk, name,
                        f"{name}: nothing is written in their first language ({first}).",
                        f"Add a variant in {first}."))
    if segment.channels and not content.channel_kinds & set(segment.channels):
        gaps.append(Gap("coverage.channel", segment.pk, name,
                        f"{name}: the message uses none of the channels they use "
                        f"({', '.join(segment.channels)}).",
                        f"Add one of: {', '.join(segment.channels)}."))
    for need in segment.needs:
        if need in _NEEDS_FORMAT:
            wanted = _NEEDS_FORMAT[need]
            language = first or next(iter(sorted(content.languages)), "en")
            if wanted not in content.formats_by_language.get(language, frozenset()):
                gaps.append(Gap(f"coverage.need.{need}", segment.pk, name,
                                f"{name}: they need an easy-read version in {language}.",
                                f"Add an easy-read variant in {language}."))
        elif need in _NEEDS_CHANNEL:
            if not content.channel_kinds & _NEEDS_CHANNEL[need]:
                kinds = ", ".join(sorted(_NEEDS_CHANNEL[need]))
                gaps.append(Gap(f"coverage.need.{need}", segment.pk, name,
                                f"{name}: their need ({Need(need).label.lower()}) is met by {kinds}, "
                                f"which the message does not use.", f"Add one of: {kinds}."))
        elif need == Need.SIGN_LANGUAGE_VIDEO and not content.has_links:
            gaps.append(Gap("coverage.need.sign_language_video", segment.pk, name,
                            f"{name}: they need a sign-language video; the message links to none.",
                            "Add a link to the sign-language video."))
    return gaps


def plan_for(*, segment: Segment, team_channels: list[Channel], content: Content | None) -> SegmentPlan:
    order = {kind: i for i, kind in enumerate(segment.channels)}
    usable = sorted((c for c in team_channels if c.kind in order and c.is_active), key=lambda c: (order[c.kind], c.pk))
    formats = [VariantFormat.STANDARD]
    formats += [_NEEDS_FORMAT[n] for n in segment.needs if n in _NEEDS_FORMAT]
    if ChannelKind.SMS in order:
        formats.append(VariantFormat.SMS_SHORT)
    return SegmentPlan(
        segment=segment.pk, segment_name=segment.name, channels=[c.pk for c in usable],
        channel_kinds=[c.kind for c in usable], language=segment.languages[0] if segment.languages else "",
        other_languages=list(segment.languages[1:]), formats=list(dict.fromkeys(formats)),
        gaps=segment_gaps(segment=segment, content=content) if content is not None else [],
    )


def delivery_plan(message: Message) -> list[SegmentPlan]:
    team_channels = list(Channel.objects.filter(team_id=message.team_id, is_active=True))
    content = content_of(message)
    return [plan_for(segment=s, team_channels=team_channels, content=content) for s in message.segments.all()]


def coverage_gaps(message: Message) -> list[Gap]:
    return [gap for plan in delivery_plan(message) for gap in plan.gaps]


def coverage_blocks_submission(message: Message) -> bool:
    return bool(message.team.setting("coverage_as_error", False))


def message_apply_plan(*, actor: Any, message: Message) -> Message:
    """Add the channels the plan proposes for every targeted segment (the officer may then adjust)."""
    from accounts.policies import policy_for
    from campaigns.services.messages import message_update
    from core.errors import NotAllowed

    if not policy_for(Message).may(actor, "draft", message):
        raise NotAllowed(gettext("You cannot edit messages of this team."))
    current = {c.pk for c in message.channels.all()}
    proposed = {pk for plan in delivery_plan(message) for pk in plan.channels}
    if proposed <= current:
        return message
    return message_update(actor=actor, message=message, channels=sorted(current | proposed))


# --- who gets which text on list channels -------------------------------------------------------

@dataclass(frozen=True)
class TextReach:
    """One text (the original or a variant) on one list channel: how many get it, and its cost."""

    variant: int | None
    label: str
    language: str
    segment_name: str
    recipients: int
    sms_segments: int | None = None
    encoding: str = ""
    cost: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "label": self.label, "language": self.language,
                "segment_name": self.segment_name, "recipients": self.recipients,
                "sms_segments": self.sms_segments, "encoding": self.encoding, "cost": self.cost}


@dataclass(frozen=True)
class ChannelReach:
    channel: int
    channel_name: str
    kind: str
    texts: list[TextReach]
    not_targeted: int   # on the list, but outside the message's audience (or no text may reach them)
    opted_out: int
    cost: str | None = None
    currency: str = ""

    @property
    def recipients(self) -> int:
        return sum(t.recipients for t in self.texts)

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "channel_name": self.channel_name, "kind": self.kind,
                "recipients": self.recipients, "not_targeted": self.not_targeted, "opted_out": self.opted_out,
                "cost": self.cost, "currency": self.currency, "texts": [t.as_dict() for t in self.texts]}


def _sms_adapter(channel: Channel) -> Any:
    from platforms import get_adapter
    from platforms.base import AdapterError

    try:
        return get_adapter(channel.kind, config=channel.config or {}, secrets=channel.get_secrets())
    except (AdapterError, ValueError, KeyError, TypeError):
        return None  # misconfigured: the plan shows counts without a price


def recipient_plan(message: Message) -> list[ChannelReach]:
    """Before approval: on each list channel (SMS, email), how many recipients get which text of
    the message (``campaigns.services.targeting``'s rule) and, on SMS, what it costs (the adapter's
    estimate: parts x recipients x price per part). Counts only, never addresses."""
    from decimal import Decimal

    from campaigns.models import ListRecipient
    from campaigns.publishing.schedule import plan_deliveries
    from campaigns.services.targeting import LIST_KINDS, recipient_counts
    from platforms.base import Payload
    from platforms.sms.counting import sms_count

    planned = [(p.variant, p.channel) for p in plan_deliveries(message) if p.channel.kind in LIST_KINDS]
    if not planned:
        return []
    counts, missed = recipient_counts(message, planned)
    opted_out = dict(ListRecipient.objects.filter(channel_id__in={c.pk for _, c in planned},
                                                  opted_out_at__isnull=False)
                     .order_by().values("channel_id").annotate(n=Count("pk")).values_list("channel_id", "n"))
    segment_names = dict(Segment.objects.filter(variants__message=message).values_list("pk", "name"))
    by_channel: dict[int, tuple[Channel, list[Any]]] = {}
    for variant, channel in planned:
        by_channel.setdefault(channel.pk, (channel, []))[1].append(variant)
    out = []
    for channel_id, (channel, variants) in by_channel.items():
        adapter = _sms_adapter(channel) if channel.kind == ChannelKind.SMS else None
        texts, total, currency = [], Decimal(0), ""
        for variant in variants:
            body = variant.body if variant else message.body
            language = variant.language if variant else message.language
            segment = segment_names.get(variant.segment_id, "") if variant and variant.segment_id else ""
            label = (f"{language.upper()} · {variant.get_format_display()}" if variant
                     else f"Original ({language.upper()})") + (f" · {segment}" if segment else "")
            n = counts.get((variant.pk if variant else None, channel_id), 0)
            parts, encoding, cost = None, "", None
            if channel.kind == ChannelKind.SMS:
                if adapter is not None:
                    estimate = adapter.estimate(Payload(text=body, language=language), recipient_count=n)
                    parts, encoding, cost = estimate.segments, estimate.encoding, estimate.cost
                    currency = estimate.currency
                    total += cost
                else:
                    counted = sms_count(body)
                    parts, encoding = counted.segments, counted.encoding
            texts.append(TextReach(variant=variant.pk if variant else None, label=label, language=language,
                                   segment_name=segment, recipients=n, sms_segments=parts, encoding=encoding,
                                   cost=str(cost) if cost is not None else None))
        out.append(ChannelReach(channel=channel_id, channel_name=channel.name, kind=channel.kind, texts=texts,
                                not_targeted=missed.get(channel_id, 0), opted_out=opted_out.get(channel_id, 0),
                                cost=str(total) if adapter is not None else None, currency=currency))
    return out
