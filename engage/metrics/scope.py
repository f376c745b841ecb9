"""What a metric is computed over: the user's teams, narrowed by the filters.

Every metric starts from :func:`resolve_scope`. It keeps only the teams whose metrics the user
may see (``accounts.permissions.can_view_metrics``, sub-teams included), and looks up each
filter object among them: an event, segment, channel, campaign or team of another team is
"not found" (a 404 in the API and the pages), never an empty answer, so ids of other teams'
objects reveal nothing.

Dimensions, and how a reply gets them:

* **team**: ``Reply.team`` (the inbox it landed in);
* **event** and **campaign**: through the message it answers (``Reply.message`` -> campaign ->
  event). A reply that answers none of our messages (the general contact form, a direct
  message) has no event, campaign or segment;
* **phase**: ``before``, ``during`` or ``after``, from the event's *times* and the reply's
  ``received_at`` (not the supervisor's live ``phase_override``, which says what the event page
  shows now, not when things happened); ``none`` without an event;
* **segment**: the segments the answered message targeted (``Message.segments``). A message can
  target several, so a reply counts once for each of them: segment rows do not add up;
* **channel**, **language**: the reply's own;
* **period**: ``received_at`` in ``[since, until)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext

from accounts.languages import english_name
from accounts.models import Team
from accounts.policies import policy_for
from campaigns.models import Campaign, Channel, Event, Message, Segment
from core.errors import InvalidInput, NotFound
from core.ids import parse_id
from engage.models import MetricsRollup, Reply

PHASES = ("before", "during", "after")


def metric_team_ids(user: Any) -> set[int]:
    """Every team whose metrics the user may see (sub-teams of their teams included)."""
    return policy_for(MetricsRollup).team_ids(user, "view")


def _descendants(team_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Team.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = set(), [team_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.ENGAGE_DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(settings.ENGAGE_DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class Scope:
    """The resolved filters. ``team_ids`` is never empty unless the user sees no team at all."""

    team_ids: frozenset[int]
    team: Team | None = None
    event: Event | None = None
    campaign: Campaign | None = None
    segment: Segment | None = None
    channel: Channel | None = None
    language: str = ""
    phase: str = ""
    since: datetime | None = None
    until: datetime | None = None
    tz: ZoneInfo = field(default_factory=lambda: _zone(None))

    def as_dict(self) -> dict[str, Any]:
        """The filters as the API echoes them (ids and ISO times)."""
        out: dict[str, Any] = {}
        for name in ("team", "event", "campaign", "segment", "channel"):
            obj = getattr(self, name)
            if obj is not None:
                out[name] = obj.pk
        for name in ("language", "phase"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        return out

    def describe(self) -> str:
        """The filters in words, for page headings, exports and reports, in the active language (the
        desk's; the API and the after-action report are in English)."""
        parts = []
        if self.team is not None:
            parts.append(self.team.name)
        if self.event is not None:
            parts.append(gettext("event “%(name)s”") % {"name": self.event.name})
        if self.campaign is not None:
            parts.append(gettext("campaign “%(name)s”") % {"name": self.campaign.name})
        if self.segment is not None:
            parts.append(gettext("segment “%(name)s”") % {"name": self.segment.name})
        if self.channel is not None:
            parts.append(gettext("channel “%(name)s”") % {"name": self.channel.name})
        if self.language:  # a name, not only a code
            parts.append(gettext("language %(name)s (%(code)s)") % {
                "name": gettext(english_name(self.language)), "code": self.language})  # noqa: INT001
        if self.phase:
            parts.append({"before": gettext("before the event"), "during": gettext("during the event"),
                          "after": gettext("after the event")}.get(self.phase, self.phase))
        if self.since is not None:
            parts.append(gettext("from %(when)s") % {"when": date_format(self.since.astimezone(self.tz), "d M Y H:i")})
        if self.until is not None:
            parts.append(gettext("until %(when)s") % {"when": date_format(self.until.astimezone(self.tz), "d M Y H:i")})
        return ", ".join(parts) or gettext("all your teams")


def _lookup(model: type, pk: Any, teams: set[int], what: str, team_field: str = "team_id") -> Any:
    if pk in (None, ""):
        return None
    if isinstance(pk, model):
        obj = pk
    else:
        key = parse_id(pk)
        if key is None:
            raise InvalidInput(f"{what} must be an id.", fields={what.lower(): ["A valid id is required."]})
        obj = model.objects.filter(pk=key).first()
    if obj is None or getattr(obj, team_field) not in teams:
        raise NotFound(f"No such {what.lower()}.")
    return obj


def resolve_scope(
    *,
    user: Any,
    team: Any = None,
    event: Any = None,
    campaign: Any = None,
    segment: Any = None,
    channel: Any = None,
    language: str = "",
    phase: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Scope:
    """Check the filters against what the user may see and return the :class:`Scope`."""
    visible = metric_team_ids(user)
    chosen_team = _lookup(Team, team, visible, "Team", team_field="pk")
    teams = visible & _descendants(chosen_team.pk) if chosen_team is not None else visible
    chosen_event = _lookup(Event, event, visible, "Event")
    chosen_campaign = _lookup(Campaign, campaign, visible, "Campaign")
    chosen_segment = _lookup(Segment, segment, visible, "Segment")
    chosen_channel = _lookup(Channel, channel, visible, "Channel")
    if phase and phase not in PHASES:
        raise InvalidInput(gettext("Unknown phase."),
                           fields={"phase": [f"Choose one of {', '.join(PHASES)}."]})
    if since is not None and until is not None and until <= since:
        raise InvalidInput(gettext("The period ends before it starts."),
                           fields={"until": ["Must be after since."]})
    zone_team = chosen_team or (chosen_event.team if chosen_event is not None else None)
    if zone_team is None and teams:
        zone_team = Team.objects.filter(pk__in=teams).order_by("parent_id", "id").first()
    return Scope(
        team_ids=frozenset(teams), team=chosen_team, event=chosen_event, campaign=chosen_campaign,
        segment=chosen_segment, channel=chosen_channel, language=(language or "").strip()[:16],
        phase=phase or "", since=since, until=until, tz=_zone(zone_team.timezone if zone_team else None),
    )


# --- expressions ------------------------------------------------------------------------------

def phase_expression(prefix: str = "message__campaign__event__") -> Case:
    """``before`` / ``during`` / ``after`` from the event's times and ``received_at``; ``none``."""
    starts, ends = F(f"{prefix}starts_at"), F(f"{prefix}ends_at")
    return Case(
        When(Q(**{f"{prefix}starts_at__isnull": True}), then=Value("none")),
        When(received_at__lt=starts, then=Value("before")),
        When(Q(**{f"{prefix}ends_at__isnull": True}) | Q(received_at__lt=ends), then=Value("during")),
        default=Value("after"),
        output_field=CharField(),
    )


def segment_exists(segment_id: int, message_ref: str = "message_id") -> Exists:
    return Exists(Message.segments.through.objects.filter(message_id=OuterRef(message_ref), segment_id=segment_id))


def by_message_and_channel(qs: QuerySet, scope: Scope) -> QuerySet:
    """The scope's event, campaign, segment and channel filters, for rows with ``message`` and ``channel``."""
    if scope.event is not None:
        qs = qs.filter(message__campaign__event_id=scope.event.pk)
    if scope.campaign is not None:
        qs = qs.filter(message__campaign_id=scope.campaign.pk)
    if scope.segment is not None:
        qs = qs.filter(segment_exists(scope.segment.pk))
    if scope.channel is not None:
        qs = qs.filter(channel_id=scope.channel.pk)
    return qs


def replies(scope: Scope, *, period: bool = True) -> QuerySet[Reply]:
    """The replies in scope. ``period=False`` ignores since/until (for the backlog, which is now)."""
    qs = by_message_and_channel(policy_for(Reply).restrict(Reply.objects.all(), scope.team_ids), scope)
    if scope.language:
        qs = qs.filter(language=scope.language)
    if scope.phase:
        qs = qs.annotate(_phase=phase_expression()).filter(_phase=scope.phase)
    if period and scope.since is not None:
        qs = qs.filter(received_at__gte=scope.since)
    if period and scope.until is not None:
        qs = qs.filter(received_at__lt=scope.until)
    return qs
