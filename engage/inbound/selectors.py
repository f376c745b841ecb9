"""Reads for the triage inbox, its API and the trust metrics. No writes.

Who sees a reply: liaison officers, supervisors and administrators of its team (or of a team
above it). A reply in the restricted queue is seen only by users with the intelligence-liaison
permission for its team (``can_see_restricted_queue``). Anything else is "not found".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import Message
from core.ids import parse_id
from engage.inbound.access import INBOX_ROLES  # noqa: F401 - named here for the inbox
from engage.models import OPEN_STATUSES, ClassificationCorrection, Reply, ReplyAnswer, ReplyNote

NO_ANSWER_NEEDED = ("spam", "abuse")


# --- visibility -------------------------------------------------------------------------------

# Who sees what is the reply policy's (engage/inbound/access.py); these name its answers for the inbox.

def inbox_team_ids(user: Any) -> set[int]:
    return policy_for(Reply).team_ids(user, "inbox")


def restricted_team_ids(user: Any) -> set[int]:
    return policy_for(Reply).restricted_team_ids(user)


def triage_team_ids(user: Any) -> set[int]:
    return inbox_team_ids(user) & policy_for(Reply).team_ids(user, "triage")


def visible_replies(user: Any) -> QuerySet[Reply]:
    return policy_for(Reply).queryset(user, "view")


def can_view_reply(user: Any, reply: Reply) -> bool:
    return policy_for(Reply).may(user, "view", reply)


# --- the list -----------------------------------------------------------------------------------

@dataclass
class InboxFilters:
    event: int | None = None
    campaign: int | None = None
    segment: int | None = None
    channel: int | None = None
    team: int | None = None
    language: str = ""
    category: str = ""
    sentiment: str = ""
    status: list[str] | None = None
    source: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    urgent: bool | None = None
    restricted: bool | None = None
    overdue: bool | None = None
    open: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: str = ""  # "" (urgent first, then oldest) | "newest"

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in (None, "", [])}


MAX_MESSAGE_IDS = 5000


def _answering(qs: QuerySet[Reply], messages: QuerySet[Message]) -> QuerySet[Reply]:
    """Replies to any of ``messages``. The message ids are read first (an event has tens or hundreds
    of messages), so the database plans with a literal list and walks the inbox index in order,
    instead of joining through campaigns and sorting every match."""
    ids = list(messages.order_by().values_list("id", flat=True)[:MAX_MESSAGE_IDS + 1])
    if len(ids) > MAX_MESSAGE_IDS:
        return qs.filter(message_id__in=messages.order_by().values("id"))
    return qs.filter(message_id__in=ids)


def apply_filters(qs: QuerySet[Reply], user: User, f: InboxFilters) -> QuerySet[Reply]:
    now = timezone.now()
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.event:
        qs = _answering(qs, Message.objects.filter(campaign__event_id=f.event))
    if f.campaign:
        qs = _answering(qs, Message.objects.filter(campaign_id=f.campaign))
    if f.segment:
        qs = _answering(qs, Message.objects.filter(segments=f.segment))
    if f.channel:
        qs = qs.filter(channel_id=f.channel)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.language:
        qs = qs.filter(language=f.language)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.sentiment:
        qs = qs.filter(sentiment=f.sentiment)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee:
        assignee_id = parse_id(f.assignee)
        qs = qs.filter(assignee_id=assignee_id) if assignee_id is not None else qs.none()
    if f.urgent is not None:
        qs = qs.filter(urgent=f.urgent)
    if f.restricted is not None:
        qs = qs.filter(restricted=f.restricted)
    if f.open is not None:
        qs = qs.filter(status__in=OPEN_STATUSES) if f.open else qs.exclude(status__in=OPEN_STATUSES)
    if f.overdue is not None:
        late = Q(sla_due_at__lt=now, first_response_at__isnull=True, status__in=OPEN_STATUSES)
        qs = qs.filter(late) if f.overdue else qs.exclude(late)
    if f.since:
        qs = qs.filter(received_at__gte=f.since)
    if f.until:
        qs = qs.filter(received_at__lt=f.until)
    return qs


# What a row of the list shows (API and page): the raw forms, the author's name and the
# processing details stay in the database.
LIST_FIELDS = (
    "id", "team_id", "channel_id", "source", "message_id", "text", "text_masked", "author_handle", "author_key",
    "language", "sentiment", "sentiment_score", "category", "category_confidence", "urgent", "urgent_terms",
    "pii_kinds", "status", "assignee_id", "restricted", "legal_hold", "received_at", "created_at", "processed_at",
    "sla_due_at", "first_response_at", "closed_at", "redacted_at",
    "channel__name", "channel__kind", "assignee__full_name", "assignee__email",
    "message__campaign_id", "message__campaign__name", "message__campaign__event_id",
)


def reply_list(user: User, filters: InboxFilters | None = None) -> QuerySet[Reply]:
    """The inbox: urgent first, then oldest (or newest first on request). One query per page:
    everything a row shows comes through select_related."""
    f = filters or InboxFilters()
    qs = apply_filters(visible_replies(user), user, f)
    qs = qs.select_related("channel", "assignee", "message__campaign").only(*LIST_FIELDS)
    if f.order == "newest":
        return qs.order_by("-received_at", "-id")
    return qs.order_by("-urgent", "received_at", "id")


COUNT_CAP = 1000


def estimated_rows(qs: QuerySet[Any]) -> int | None:
    """The planner's row estimate for ``qs`` (PostgreSQL), or None."""
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = qs.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. a user with no teams: nothing to count
        return 0
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedPaginator(Paginator):
    """An exact count for short lists; for long ones on PostgreSQL, the planner's estimate
    (``count_exact`` False), because counting a million rows exactly on every page view costs
    more than the page itself. The planner is asked first (about a millisecond); only when it
    expects at most :data:`COUNT_CAP` rows is the list counted, with a count that stops after
    ``COUNT_CAP + 1``. A page that comes back short reveals the exact count, so "next" never
    points past the end."""

    count_exact = True

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        estimate = estimated_rows(qs)
        if estimate is not None and estimate > COUNT_CAP:
            self.count_exact = False
            return estimate
        capped = qs.order_by().values("pk")[:COUNT_CAP + 1].count()
        if capped <= COUNT_CAP or estimate is None:
            return capped if capped <= COUNT_CAP else qs.count()
        self.count_exact = False
        return COUNT_CAP + 1

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page])
        if not self.count_exact and len(rows) < self.per_page:
            self.__dict__["count"] = bottom + len(rows)
            self.__dict__.pop("num_pages", None)
            self.count_exact = True
        return self._get_page(rows, number, self)


def reply_detail(user: User, pk: int) -> Reply | None:
    reply = (visible_replies(user).filter(pk=pk)
             .select_related("channel", "assignee", "message__campaign__event", "delivery", "team")
             .prefetch_related(Prefetch("notes", queryset=ReplyNote.objects.select_related("author")),
                               Prefetch("answers", queryset=ReplyAnswer.objects.select_related(
                                   "template", "message", "created_by")),
                               Prefetch("corrections", queryset=ClassificationCorrection.objects.select_related(
                                   "corrected_by")))
             .first())
    return reply


def assignable_users(team_id: int) -> QuerySet[User]:
    """The people a reply of ``team_id`` may be assigned to: those who may triage it."""
    return policy_for(Reply).users_who_may("triage", team_id=team_id).order_by("full_name", "email")


def inbox_counts(user: User) -> dict[str, int]:
    now = timezone.now()
    qs = visible_replies(user).filter(status__in=OPEN_STATUSES)
    return qs.aggregate(
        open=Count("id"),
        urgent=Count("id", filter=Q(urgent=True)),
        overdue=Count("id", filter=Q(sla_due_at__lt=now, first_response_at__isnull=True)),
        mine=Count("id", filter=Q(assignee_id=user.pk)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
    )


# --- trust metrics ------------------------------------------------------------------------------

class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the continuous percentile, interpolated."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def _response_time() -> ExpressionWrapper:
    return ExpressionWrapper(F("first_response_at") - F("received_at"), output_field=DurationField())


def _percentiles(qs: QuerySet[Reply], fractions: tuple[float, ...]) -> list[float | None]:
    """Seconds to first response at each fraction, interpolated like percentile_cont, in SQL on
    both databases: one ordered-set aggregate on PostgreSQL; ORDER BY with OFFSET elsewhere."""
    answered = qs.filter(first_response_at__isnull=False)
    if connection.vendor == "postgresql":
        result = answered.aggregate(**{f"p{i}": PercentileCont(EpochSeconds(_response_time()), fraction)
                                       for i, fraction in enumerate(fractions)})
        return [None if result[f"p{i}"] is None else round(float(result[f"p{i}"]), 3)
                for i in range(len(fractions))]
    ordered = answered.annotate(ttr=_response_time()).order_by("ttr", "id")
    n = ordered.count()
    values: list[float | None] = []
    for fraction in fractions:
        if n == 0:
            values.append(None)
            continue
        position = fraction * (n - 1)
        low = math.floor(position)
        pair = [d.total_seconds() if isinstance(d, timedelta) else float(d) / 1e6
                for d in ordered.values_list("ttr", flat=True)[low:low + 2]]
        if len(pair) == 1 or position == low:
            values.append(round(pair[0], 3))
        else:
            values.append(round(pair[0] + (pair[1] - pair[0]) * (position - low), 3))
    return values




# --- who reads a reply's language (issue 15) -------------------------------------------------------

def _triagers_on_duty(team_id: int) -> tuple[list[User], dict[int, int]]:
    """The people who may triage replies of ``team_id`` (active members of the team and of the teams
    above it: ``users_who_may``, so never anyone of another force), and of them those on duty in that
    chain, ``{user id: 0 for a liaison officer, 1 otherwise}``. Two queries."""
    from accounts.models import Membership, Role
    from accounts.teams import lineage, parent_map

    people = list(assignable_users(team_id))
    duty: dict[int, int] = {}
    for user_id, role in Membership.objects.filter(team_id__in=lineage(team_id, parent_map()), on_duty=True,
                                                   user_id__in=[u.pk for u in people]).values_list("user_id", "role"):
        duty[user_id] = min(duty.get(user_id, 1), 0 if role == Role.LIAISON else 1)
    return people, duty


def _readers(people: list[User], duty: dict[int, int], language: str) -> dict[str, list[User]]:
    if not language or language == "unknown":
        return {"on_duty": [], "off_duty": []}
    readers = [u for u in people if language in (u.reads_languages or [])]
    return {"on_duty": sorted((u for u in readers if u.pk in duty), key=lambda u: duty[u.pk]),
            "off_duty": [u for u in readers if u.pk not in duty]}


def language_readers(team_id: int, language: str) -> dict[str, list[User]]:
    """The people who may triage replies of ``team_id`` and read ``language``: ``on_duty`` (liaison
    officers on duty first, then anyone else on duty) and ``off_duty``."""
    if not language or language == "unknown":
        return {"on_duty": [], "off_duty": []}
    return _readers(*_triagers_on_duty(team_id), language)


def suggested_assignee(reply: Reply) -> User | None:
    """Whom to offer a reply to first: an on-duty liaison officer of its team who reads its language."""
    on_duty = language_readers(reply.team_id, reply.language)["on_duty"]
    return on_duty[0] if on_duty else None


def languages_without_reader(user: Any) -> list[dict[str, Any]]:
    """The languages of the open replies ``user`` sees, per team, that no one on duty there reads."""
    from accounts.languages import english_name

    groups = (visible_replies(user).filter(status__in=OPEN_STATUSES, processed_at__isnull=False)
              .exclude(language__in=["", "unknown"]).values("team_id", "team__name", "language")
              .annotate(n=Count("id")).order_by("team__name", "language"))
    out: list[dict[str, Any]] = []
    staff: dict[int, tuple[list[User], dict[int, int]]] = {}
    for row in groups:  # two queries per team, whatever the number of languages
        if row["team_id"] not in staff:
            staff[row["team_id"]] = _triagers_on_duty(row["team_id"])
        if not _readers(*staff[row["team_id"]], row["language"])["on_duty"]:
            out.append({"team": row["team__name"], "language": row["language"],
                        "name": english_name(row["language"]), "open": row["n"]})
    return out
