"""Who hears about what: the one recipient rule behind every in-app alert (and the email with it).

A fan-out names its kind and the team the matter belongs to::

    notify("reply_escalated", team=reply.team_id, text=..., url=..., exclude=actor.pk)

and ``KINDS`` decides the rest: which roles of that team hear (of the team alone, or of the team
and the teams above it up to its force), whether an email goes too, and under what subject.
``also`` adds named people (the author of a message, the assignee of a reply). The same rule
holds for every kind: recipients are active users, each once, all members of the team's own
force (never of another: a force is a tenant), minus ``exclude`` (usually the actor).

Each person may turn each kind off, in the app and by email separately
(:class:`~accounts.models.NotificationPreference`, on the alert settings page): no row means on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext_noop

from accounts import teams
from accounts.models import Membership, Notification, NotificationPreference, Role, Team, User
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
    label: str = ""  # what the alert settings page calls it (translated there: {% translate r.label %})


SUPERVISORS = Audience((Role.SUPERVISOR,))
SUPERVISORS_AND_ADMINS = Audience((Role.SUPERVISOR, Role.ADMIN))

KINDS: dict[str, Rule] = {
    # Reviewing: supervisors of a message's team and the teams above it (who may approve it), not its author,
    # review it; its author hears what became of it.
    "message_awaits_review": Rule((SUPERVISORS,), up=True, email="Engage: a message awaits your review",
                                  label=gettext_noop("A message awaits review")),
    "emergency_awaits_review": Rule((SUPERVISORS,), up=True, email="Engage: an emergency message awaits its review",
                                    label=gettext_noop("An emergency message awaits its review afterwards")),
    "message_approved": Rule(email="Engage: your message was approved", label=gettext_noop("Your message was approved")),
    "message_changes_requested": Rule(email="Engage: changes requested to your message",
                                      label=gettext_noop("Your message was sent back with changes requested")),
    "message_published": Rule(email="Engage: your message was published", label=gettext_noop("Your message was published")),
    "message_failed": Rule(email="Engage: your message could not be published", label=gettext_noop("Your message failed")),
    "message_withdrawn": Rule(email="Engage: your message was withdrawn", label=gettext_noop("Your message was withdrawn")),
    # Outbound. A delivery problem reaches the message's author (``also``) and its team's supervisors.
    "delivery_failed": Rule((SUPERVISORS,), email="Engage: delivery problem", label=gettext_noop("A delivery failed")),
    "delivery_unconfirmed": Rule((SUPERVISORS,), email="Engage: delivery problem",
                                 label=gettext_noop("A delivery is unconfirmed")),
    # ``team`` is the force itself: its supervisors read the restore report before resuming.
    "restore_report": Rule((SUPERVISORS,), label=gettext_noop("A backup was restored")),
    # A channel belongs to one team: its administrators and supervisors renew the token.
    "channel_token_expiring": Rule((SUPERVISORS_AND_ADMINS,), email="Engage: a channel's sign-in expires soon",
                                   label=gettext_noop("A channel's sign-in expires soon")),
    "channel_token_expired": Rule((SUPERVISORS_AND_ADMINS,), email="Engage: a channel's sign-in has expired",
                                  label=gettext_noop("A channel's sign-in has expired")),
    # Inbound: a reply's team and the teams above it (a force's supervisors oversee its units' inboxes).
    "urgent_reply": Rule((Audience((Role.LIAISON,), on_duty=True), Audience((Role.LIAISON,)), SUPERVISORS),
                         up=True, label=gettext_noop("An urgent reply arrived")),
    "reply_escalated": Rule((SUPERVISORS,), up=True, label=gettext_noop("A reply was escalated")),
    "answer_proposed": Rule((SUPERVISORS,), up=True, label=gettext_noop("An answer was proposed")),
    "answer_cap_reached": Rule((SUPERVISORS_AND_ADMINS,), up=True, email="Engage: answer cap reached",
                               label=gettext_noop("A channel reached its hourly answer cap")),
    # One named person (``also``): the assignee, the answer's writer.
    "reply_assigned": Rule(email="Engage: a reply was assigned to you", label=gettext_noop("A reply was assigned to you")),
    "reply_overdue": Rule(email="Engage: a reply assigned to you passed its response time",
                          label=gettext_noop("A reply assigned to you passed its response time")),
    # Nobody has it: the team's liaison officers on duty (else all of them).
    "reply_overdue_unassigned": Rule((Audience((Role.LIAISON,), on_duty=True), Audience((Role.LIAISON,))),
                                     email="Engage: an unassigned reply passed its response time",
                                     label=gettext_noop("An unassigned reply passed its response time")),
    "answer_failed": Rule(label=gettext_noop("Your answer could not be sent")),
    # Event awareness (issue 18): a burst of public posts, or danger words about one place. The event's
    # team and the teams above it: supervisors and liaisons on duty, else every supervisor.
    "awareness_spike": Rule((Audience((Role.SUPERVISOR, Role.LIAISON), on_duty=True), SUPERVISORS), up=True,
                            label=gettext_noop("A spike in an event's public posts")),
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
    email after commit where the kind says so, each as the person chose. ``exclude``/``also``: users
    or ids. Returns the user ids alerted (in the app or by email), sorted."""
    users = recipients(kind, team=team, exclude=exclude, also=also)
    text = text[:TEXT_MAX]
    off = {uid: (in_app, email) for uid, in_app, email in NotificationPreference.objects.filter(
        user_id__in=users, kind=kind).values_list("user_id", "in_app", "email")}
    in_app = [uid for uid in users if off.get(uid, (True, True))[0]]
    Notification.objects.bulk_create([Notification(user_id=uid, kind=kind, text=text, url=url) for uid in in_app])
    subject = KINDS[kind].email
    emailed = [uid for uid in users if off.get(uid, (True, True))[1]] if subject else []
    if emailed:
        enqueue_on_commit("accounts.email_alert", user_ids=emailed, subject=subject, text=text, url=url)
    return sorted(set(in_app) | set(emailed))


def email_send(*, user_ids: list[int], subject: str, text: str, url: str) -> None:
    """One email to the users still active (the task ``accounts.email_alert`` runs it after commit)."""
    emails = list(User.objects.filter(pk__in=user_ids, is_active=True).values_list("email", flat=True))
    if emails:
        send_mail(subject, f"{text}\n\n{settings.ENGAGE_SITE_URL}{url}", None, emails, fail_silently=False)
