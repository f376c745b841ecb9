"""Roles: a deactivated user, a user without a membership and a member of another force can do nothing.

Sign-in refuses a deactivated user already; these tests hold the second line, the policies
themselves. Every policy function of ``accounts.permissions`` is found by reading the module's
source, so a policy added later is covered without editing this file (a policy with a parameter this test
does not know fails ``test_every_policy_is_understood``: teach ``_arguments`` about it).

Each policy is first shown to grant something to somebody in team A (so that "refused" below
is not vacuous), then to refuse everybody who should hold nothing.
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from accounts import permissions
from accounts.models import Membership, Role
from accounts.services import membership_remove, membership_set
from campaigns import publishing
from campaigns.models import Message, MessageStatus
from campaigns.services import workflow
from core.errors import NotAllowed, NotFound
from tests.factories import make_approved, make_submitted, member
from tests.invariants.conftest import Forces

pytestmark = pytest.mark.django_db

EMERGENCY_BODY = "Please move away from Station Road now, calmly. If you are in danger call 999."

# Every public function of the module answers "may this user...?" (or "what may they?"), except
# these: a cache reset, and a fact about authorship (true of an author however they stand now).
_NOT_GRANTS = {"forget", "wrote_part_of"}


def _by_name(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Call ``fn(user, *values)`` with the values passed by name, keyword-only parameters included."""
    names = [p.name for p in list(inspect.signature(fn).parameters.values())[1:]]

    @functools.wraps(fn)
    def call(user: Any, *values: Any) -> Any:
        return fn(user, **dict(zip(names, values, strict=True)))

    return call


def _public_function_names() -> list[str]:
    """The public functions defined in ``accounts/permissions.py``, read from its source.

    Read from the source, not by introspection, so that the same policies are found when mutmut
    runs these tests: it rewrites each function ``f`` into a trampoline ``f`` (wrapping the
    original's signature) plus ``x_f__mutmut_orig``, ``x_f__mutmut_1``... beside it.
    """
    tree = ast.parse(Path(inspect.getsourcefile(permissions)).read_text("utf-8"))
    return [node.name for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and "__mutmut" not in node.name]


def _policies() -> dict[str, Callable[..., Any]]:
    return {name: _by_name(getattr(permissions, name)) for name in _public_function_names()
            if name not in _NOT_GRANTS}


POLICIES = _policies()
# Policies that only a platform operator (an active superuser, who needs no membership) holds.
OPERATOR_ONLY = {"is_platform_operator", "can_pause_everything"}


def _arguments(fn: Callable[..., Any], team: Any, message: Message) -> list[tuple[Any, ...]]:
    """Every way to call the policy about team A's things: the team as an object and as an id."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    calls: list[tuple[Any, ...]] = [()]
    for param in params:
        if param.name == "team":
            values: list[Any] = [team, team.pk]
        elif param.name == "message":
            values = [message]
        elif param.name == "event":
            values = [SimpleNamespace(team_id=team if isinstance(team, int) else team.pk)]
        elif param.name == "watch":  # a watch of public signals (issue 18), set up by nobody here
            values = [SimpleNamespace(event=SimpleNamespace(team_id=team if isinstance(team, int) else team.pk),
                                      created_by_id=None)]
        elif param.name in ("draft_authors", "writers"):
            values = [set(), {message.author_id}]
        elif param.name in ("author_id", "publisher_id"):
            values = [None, message.author_id]
        elif param.name == "roles":
            values = [frozenset(Role.values)] if param.default is inspect.Parameter.empty else [None,
                                                                                                  frozenset(Role.values)]
        elif param.default is not inspect.Parameter.empty:
            values = [param.default]
        else:
            raise AssertionError(f"{fn.__name__}: unknown parameter {param.name!r}")
        calls = [(*call, value) for call in calls for value in values]
    return calls


def _granted(result: Any) -> bool:
    return bool(result)


@pytest.fixture
def scene(forces: Forces):
    a = forces.a
    membership_set(user=a.liaison, team=a.team, role=Role.LIAISON, intelligence_liaison=True)
    # Authored by a supervisor, emergency: every policy (self-approval included) grants to someone in A.
    message = make_submitted(a, author=a.supervisor, urgency="emergency", body=EMERGENCY_BODY)
    insiders = [a.officer, a.supervisor, a.supervisor2, a.liaison, a.admin,
                member(forces.world.force, Role.SUPERVISOR, email="force-supervisor@engage.test")]
    return forces, message, insiders


@pytest.fixture
def operator(db):
    from accounts.models import User

    return User.objects.create_superuser(email="operator@engage.test", password="x" * 16)


def _fresh(user):
    user.refresh_from_db()
    permissions.forget(user)
    return user


def test_every_policy_is_understood(scene):
    forces, message, _ = scene
    assert len(POLICIES) > 20
    for fn in POLICIES.values():
        assert _arguments(fn, forces.a.team, message)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_policy_grants_something_to_an_active_member(scene, operator, name):
    forces, message, insiders = scene
    fn = POLICIES[name]
    if name in OPERATOR_ONLY:
        insiders = [operator]
    granted = [(u.email, args) for u in insiders for args in _arguments(fn, forces.a.team, message)
               if _granted(fn(_fresh(u), *args))]
    assert granted, f"{name} grants nothing to anyone in team A: the refusals below would prove nothing"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_deactivated_user_holds_nothing(scene, operator, name):
    forces, message, insiders = scene
    fn = POLICIES[name]
    for user in [*insiders, operator]:  # a deactivated platform operator holds nothing either
        user.is_active = False
        user.save(update_fields=["is_active"])
        for args in _arguments(fn, forces.a.team, message):
            assert not _granted(fn(_fresh(user), *args)), f"{name}{args} granted to deactivated {user.email}"
            # Also when the permission cache was filled while the user was still active.
            cached = _fresh(user)
            cached.is_active = True
            permissions.roles_in(cached, forces.a.team)
            cached.is_active = False
            assert not _granted(fn(cached, *args)), f"{name}{args} granted from the cache to {user.email}"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_user_without_a_membership_holds_nothing(scene, name):
    forces, message, insiders = scene
    fn = POLICIES[name]
    # One who never had one, and the team's own members after their memberships were removed.
    admin = member(forces.world.force, Role.ADMIN, email="force-admin@engage.test")
    for membership in Membership.objects.filter(user__in=insiders):
        membership_remove(membership=membership, actor=admin)
    for user in [forces.world.outsider, *insiders]:
        for args in _arguments(fn, forces.a.team, message):
            assert not _granted(fn(_fresh(user), *args)), f"{name}{args} granted to {user.email} without membership"


def _about_an_object(fn: Callable[..., Any]) -> bool:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return any(p.name in ("team", "message", "event") and p.default is inspect.Parameter.empty for p in params)


@pytest.mark.parametrize("name", sorted(n for n, fn in POLICIES.items() if _about_an_object(fn)))
def test_a_member_of_another_force_holds_nothing_here(scene, name):
    forces, message, _ = scene
    fn = POLICIES[name]
    c = forces.other
    membership_set(user=c.liaison, team=c.team, role=Role.LIAISON, intelligence_liaison=True)
    strangers = [c.officer, c.supervisor, c.supervisor2, c.liaison, c.admin]
    # The strongest strangers: a supervisor and an administrator at the top of the other force.
    strangers.append(member(forces.other_force, Role.SUPERVISOR, email="force2-supervisor@engage.test"))
    strangers.append(member(forces.other_force, Role.ADMIN, email="force2-admin@engage.test"))
    for user in strangers:
        for args in _arguments(fn, forces.a.team, message):
            assert not _granted(fn(_fresh(user), *args)), f"{name}{args} granted to {user.email} of another force"


# --- and through the services ----------------------------------------------------------------

def test_a_deactivated_supervisor_cannot_approve_pause_withdraw_or_schedule(world):
    a = world.a
    in_review = make_submitted(a)
    approved = make_approved(a)
    for user in (a.supervisor, a.supervisor2, a.officer):
        user.is_active = False
        user.save(update_fields=["is_active"])
    for user in (a.supervisor2, a.officer):
        user = _fresh(user)
        with pytest.raises((NotAllowed, NotFound)):
            workflow.message_approve(actor=user, message=in_review)
        with pytest.raises((NotAllowed, NotFound)):
            publishing.message_schedule(actor=user, message=approved, scheduled_at=None)
        with pytest.raises((NotAllowed, NotFound)):
            publishing.message_withdraw(actor=user, message=approved)
        with pytest.raises((NotAllowed, NotFound)):
            publishing.publishing_pause(actor=user, reason="Incident", team=a.team.pk)
    assert Message.objects.get(pk=in_review.pk).status == MessageStatus.IN_REVIEW
    assert Message.objects.get(pk=approved.pk).status == MessageStatus.APPROVED
