"""One permission policy per model (accounts/policies): its two answers agree, and nothing else
filters by team.

(a) For every registered policy, every action it answers and every user of a test world (each role
of two teams of one force, a force-level supervisor, an intelligence liaison, a user of another
force, a user without membership, a deactivated supervisor, a platform operator), the objects
``queryset(user, action)`` returns are exactly those for which ``may(user, action, obj)`` is true.

(b) A scan of the source counts hand-written team filters (``team_id__in=``, ``message__team_id__in=``,
``permissions.team_ids(``...) outside the policies. Those that remain are listed in ``LEFT`` with the
reason; a new one fails here until it goes through a policy (or is listed, with its reason).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from accounts.models import Role
from accounts.policies import policy_for, registered
from accounts.services import membership_set
from tests.factories import UserFactory, make_approved, make_message, make_other_force, member

ROOT = Path(__file__).resolve().parents[2]


def _world_rows(world):
    """Rows of (almost) every policy's model, in team A, team B, the force and another force."""
    from django.utils import timezone

    from campaigns.models import Delivery, PlaybookTemplate, PublishingPause
    from campaigns.services.rumours import rumour_create, rumour_verdict_write
    from engage.inbound.triage import reply_note_add
    from engage.models import Reply
    from tests.engage.inbound_helpers import make_reply
    from tests.factories import ensure_shipped_answers

    _force_c, c = make_other_force("C")
    ensure_shipped_answers()
    for tw in (world.a, world.b, c):
        approved = make_approved(tw)
        Delivery.objects.create(message=approved, channel=tw.public, idempotency_key=f"policy-{tw.team.pk}",
                                due_at=approved.created_at)
        message = make_message(tw, author=tw.supervisor)  # the supervisor wrote it: not theirs to approve
        message.versions.update(created_by=tw.officer)
        open_reply = make_reply(tw, process=False)
        restricted = make_reply(tw, text="I know who did it", process=False)
        Reply.objects.filter(pk=restricted.pk).update(restricted=True)
        reply_note_add(actor=tw.liaison, reply=open_reply, body="Called back")
        rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The match is cancelled")
        rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="It goes ahead as planned.")
        PublishingPause.objects.create(team=tw.team, reason="Incident", paused_by=tw.supervisor)
        PlaybookTemplate.objects.create(team=tw.team, title=f"Own {tw.team.name}", body="Own words")
    PublishingPause.objects.create(team=None, reason="Everywhere", paused_by=None, paused_at=timezone.now())
    PlaybookTemplate.objects.create(team=None, title="Shared", body="Shared words")
    return c


def _users(world, c):
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    spy = member(world.a.team, Role.LIAISON, email="spy@engage.test")
    membership_set(user=spy, team=world.a.team, role=Role.LIAISON, intelligence_liaison=True)
    gone = member(world.a.team, Role.SUPERVISOR, email="gone@engage.test")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    operator = UserFactory(email="operator@engage.test", is_superuser=True)
    users = {f"{label}-{role}": user for label, tw in (("a", world.a), ("b", world.b), ("c", c))
             for role, user in tw.users.items()}
    users.update({"a-supervisor2": world.a.supervisor2, "force-chief": chief, "a-intelligence": spy,
                  "a-deactivated": gone, "outsider": world.outsider, "operator": operator})
    return users


@pytest.mark.django_db
def test_each_policy_answers_alike_for_an_instance_and_for_its_queryset(world):
    c = _world_rows(world)
    users = _users(world, c)
    with_rows = set()
    for label, policy in sorted(registered().items()):
        rows = list(policy.model._default_manager.all())
        if rows:
            with_rows.add(label)
        for action in policy.actions:
            for name, user in users.items():
                listed = set(policy.queryset(user, action).values_list("pk", flat=True))
                allowed = {row.pk for row in rows if policy.may(user, action, row)}
                assert listed == allowed, (label, action, name, sorted(listed ^ allowed))
    # The world holds rows of the models that matter (so the comparison above compared something).
    assert {"accounts.team", "accounts.auditevent", "campaigns.message", "campaigns.delivery", "campaigns.channel",
            "campaigns.segment", "campaigns.event", "campaigns.campaign", "campaigns.playbooktemplate",
            "campaigns.publishingpause", "campaigns.rumour", "campaigns.rumourverdict", "campaigns.listrecipient",
            "engage.reply", "engage.replynote", "engage.answertemplate"} <= with_rows, with_rows


@pytest.mark.django_db
def test_the_role_rules_hold_through_the_policies(world):
    """The rules of accounts.permissions, asked through the policies: nothing for a deactivated user,
    a user without membership or a member of another force; a role above a team reaches it."""
    from campaigns.models import Message

    c = _world_rows(world)
    users = _users(world, c)
    messages = policy_for(Message)
    mine = make_approved(world.a)
    for name in ("a-deactivated", "outsider", "c-supervisor", "c-admin", "b-supervisor"):
        assert not messages.may(users[name], "view", mine), name
        assert not messages.queryset(users[name]).filter(pk=mine.pk).exists(), name
    assert messages.may(users["force-chief"], "supervise", mine)
    assert messages.may(world.a.supervisor2, "approve", make_message(world.a, author=world.a.supervisor))
    assert not messages.may(world.a.supervisor, "approve", make_message(world.a, author=world.a.supervisor))
    with pytest.raises(ValueError):
        messages.may(world.a.officer, "delete", mine)
    with pytest.raises(LookupError):
        policy_for("campaigns.deliveryattempt")


# --- (b) the scan ---------------------------------------------------------------------------------

TEAM_FILTER = re.compile(r"\b\w*team(?:_id|__id|__parent_id)?__in\s*=|\bpermissions\.team_ids(?:_with_ancestors)?\(")
SCANNED = ("accounts", "campaigns", "engage", "core", "platforms")
POLICY_HOMES = {"accounts/permissions.py", "accounts/policies", "campaigns/policies.py", "engage/inbound/access.py"}

# Hand-written team filters that remain, {file: count}, each with its reason.
LEFT: dict[str, tuple[int, str]] = {
    "accounts/notify.py": (2, "who hears about what (the team chain's members, and named people in the same "
                              "force): the notification rule itself, not who may see an object"),
    "campaigns/api/base.py": (1, "default_team() picks the request's team among those the caller holds the "
                                 "given roles in (a choice, not a visibility rule)"),
    "engage/metrics/rollup.py": (3, "the rollup task fills the table for the teams it is given; no user asks"),
    "engage/metrics/summary.py": (3, "reads of the rollup table for the team ids the dashboard's scope already "
                                     "allowed (engage/metrics/scope.py asks the policy)"),
    "engage/inbound/selectors.py": (1, "language_readers(): who of those policy_for(Reply).users_who_may('triage') "
                                       "already allows is on duty in the reply's team chain (routing, like notify)"),
    "engage/metrics/equity.py": (1, "readers_by_language(): the staff of the team ids the dashboard's scope already "
                                    "allowed (engage/metrics/scope.py asks the policy)"),
    "engage/inbound/ingest.py": (1, "routing: the force's team that has liaison officers receives its contact "
                                    "form; no user's permission is asked"),
}


def _scan() -> Counter:
    found: Counter = Counter()
    for top in SCANNED:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or any(rel == home or rel.startswith(home + "/") for home in POLICY_HOMES):
                continue
            hits = len(TEAM_FILTER.findall(path.read_text()))
            if hits:
                found[rel] = hits
    return found


def test_no_hand_written_team_filter_outside_the_policies():
    found = _scan()
    expected = Counter({path: count for path, (count, _reason) in LEFT.items()})
    new = {path: count for path, count in found.items() if count > expected.get(path, 0)}
    assert not new, f"Team filters written by hand (go through accounts.policies.policy_for): {new}"
    gone = {path: count for path, count in expected.items() if found.get(path, 0) < count}
    assert not gone, f"Fewer team filters than LEFT lists (lower its count): {gone}"
