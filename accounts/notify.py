"""Who hears about what: the one recipient rule behind every in-app alert (and the email with it).

A fan-out names its kind and the team the matter belongs to::

    notify("reply_escalated", team=reply.team_id, text=..., url=..., exclude=actor.pk)

and ``KINDS`` decides the rest: which roles of that team hear (of the team alone, or of the team
and the teams above it up to its force), whether an email goes too, and under what subject.
``also`` adds named people (the author of a message, the assignee of a reply). The same rule
holds for every kind: recipients are active users, each once, all members of the team's own
force (never of another: a force is a tenant), minus ``exclude`` (usually the actor)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from accounts import teams
from accounts.models import Membership, Notification, Role, Team, User
from core.queue import enqueue_on_commit

TEXT_MAX = 500
People = Iterable[User | int | None] | User | int | None


@dataclass(frozen=True)
class Audience:
    """Members holding one of ``roles`` (only those on duty when ``on_duty``)."""

    roles: tuple[str, ...]
    on_duty: bool = False


@dataclass(frozen=True)
class Rule:
    """``audiences`` are tried in order and the first that reaches anyone hears (a fallback
    chain: on-duty liaisons, else every liaison, else the supervisors); none: only ``also``.
    ``up``: members of the teams above the team (its unit, its force) hear too.
    ``email``: the subject of the email that goes with the alert; empty, in the app only."""

    audiences: tuple[Audience, ...] = ()
    up: bool = False
    email: str = ""


SUPERVISORS = Audience((Role.SUPERVISOR,))
SUPERVISORS_AND_ADMINS = Audience((Role.SUPERVISOR, Role.ADMIN))

KINDS: dict[str, Rule] = {
    # Outbound. A delivery problem reaches the message's author (``also``) and its team's supervisors.
    "delivery_failed": Rule((SUPERVISORS,), email="Engage: delivery problem"),
    "delivery_unconfirmed": Rule((SUPERVISORS,), email="Engage: delivery problem"),
    # ``team`` is the force itself: its supervisors read the restore report before resuming.
    "restore_report": Rule((SUPERVISORS,)),
    # A channel belongs to one team: its administrators and supervisors renew the token.
    "channel_token_expiring": Rule((SUPERVISORS_AND_ADMINS,), email="Engage: a channel's sign-in expires soon"),
    "channel_token_expired": Rule((SUPERVISORS_AND_ADMINS,), email="Engage: a channel's sign-in has expired"),
    # Inbound: a reply's team and the teams above it (a force's supervisors oversee its units' inboxes).
    "urgent_reply": Rule((Audience((Role.LIAISON,), on_duty=True), Audience((Role.LIAISON,)), SUPERVISORS),
                         up=True),
    "reply_escalated": Rule((SUPERVISORS,), up=True),
    "answer_proposed": Rule((SUPERVISORS,), up=True),
    "answer_cap_reached": Rule((SUPERVISORS_AND_ADMINS,), up=True, email="Engage: answer cap reached"),
    # One named person (``also``): the assignee, the answer's writer.
    "reply_assigned": Rule(),
    "answer_failed": Rule(),
}


def _ids(users: People) -> set[int]:
    if users is None:
        return set()
    if isinstance(users, (int, User)):
        users = [users]
    return {u if isinstance(u, int) else u.pk for u in users if u is not None}


def _force(team_id: int, parents: dict[int, int | None]) -> int:
    return teams.lineage(team_id, parents)[-1]


def recipients(kind: str, *, team: Team | int, exclude: People = None, also: People = None) -> list[int]:
    """The user ids ``notify`` would alert, sorted (nothing is written)."""
    rule = KINDS[kind]
    team_id = team if isinstance(team, int) else team.pk
    parents = teams.parent_map() if rule.up or also is not None else {}
    chain = teams.lineage(team_id, parents) if rule.up else [team_id]
    members = Membership.objects.filter(team_id__in=chain, user__is_active=True)
    found: set[int] = set()
    for audience in rule.audiences:
        rows = members.filter(role__in=audience.roles)
        if audience.on_duty:
            rows = rows.filter(on_duty=True)
        found = set(rows.values_list("user_id", flat=True))
        if found:
            break
    named = _ids(also) - found
    if named:  # active members of a team of this force, never of another
        force = _force(team_id, parents)
        in_force = [t for t in parents if _force(t, parents) == force]
        found |= set(Membership.objects.filter(user_id__in=named, team_id__in=in_force, user__is_active=True)
                     .values_list("user_id", flat=True))
    return sorted(found - _ids(exclude))


def notify(kind: str, *, team: Team | int, text: str, url: str = "", exclude: People = None,
           also: People = None) -> list[int]:
    """Alert everyone ``KINDS[kind]`` names for ``team`` (a Team or its id) in the app, and by
    email after commit where the kind says so. ``exclude``/``also``: users or ids. Returns the
    user ids alerted, sorted."""
    users = recipients(kind, team=team, exclude=exclude, also=also)
    text = text[:TEXT_MAX]
    Notification.objects.bulk_create([Notification(user_id=uid, kind=kind, text=text, url=url) for uid in users])
    subject = KINDS[kind].email
    if subject and users:
        enqueue_on_commit("accounts.email_alert", user_ids=users, subject=subject, text=text, url=url)
    return users


def email_send(*, user_ids: list[int], subject: str, text: str, url: str) -> None:
    """One email to the users still active (the task ``accounts.email_alert`` runs it after commit)."""
    emails = list(User.objects.filter(pk__in=user_ids, is_active=True).values_list("email", flat=True))
    if emails:
        send_mail(subject, f"{text}\n\n{settings.ENGAGE_SITE_URL}{url}", None, emails, fail_silently=False)
