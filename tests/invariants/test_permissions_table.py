"""Roles: who holds what, policy by policy, on a real team tree.

``test_roles_inactive`` proves that people who should hold nothing hold nothing. This file states
the other half, the grant table: for each policy, exactly which roles of the team (or of a team
above it) are granted, that a role held on a team reaches its sub-teams and never a sibling or
another force, and the two-person rule's "somebody else" in every policy that has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from accounts import permissions
from accounts.models import Membership, Role, Team, User
from accounts.services import membership_set
from campaigns.services import messages as message_services
from tests.factories import TeamFactory, UserFactory, make_submitted, member

pytestmark = pytest.mark.django_db

OFFICER, SUPERVISOR, LIAISON, ADMIN = Role.OFFICER, Role.SUPERVISOR, Role.LIAISON, Role.ADMIN

# policy -> the roles (held on the team or above it) that it grants.
TEAM_POLICIES: dict[str, set[str]] = {
    "can_view_team": {OFFICER, SUPERVISOR, LIAISON, ADMIN},
    "can_view_metrics": {OFFICER, SUPERVISOR, LIAISON, ADMIN},
    "can_draft": {OFFICER, SUPERVISOR},
    "can_manage_segments": {OFFICER, SUPERVISOR},
    "can_manage_events": {OFFICER, SUPERVISOR},
    "can_set_rumour_status": {OFFICER, SUPERVISOR},
    "can_pause_publishing": {SUPERVISOR},
    "can_override_phase": {SUPERVISOR},
    "can_emergency_publish": {SUPERVISOR},
    "can_write_answer_template": {SUPERVISOR},
    "can_manage_channels": {ADMIN},
    "can_manage_team": {ADMIN},
    "can_manage_retention": {ADMIN},
    "can_view_audit": {ADMIN},
    "can_triage": {LIAISON, SUPERVISOR},
    "can_view_personal_data": {LIAISON, SUPERVISOR, ADMIN},
}
MESSAGE_POLICIES: dict[str, set[str]] = {
    "can_edit_message": {OFFICER, SUPERVISOR},
    "can_submit": {OFFICER, SUPERVISOR},
    "can_schedule": {OFFICER, SUPERVISOR},
    "can_comment": {OFFICER, SUPERVISOR},
    "can_withdraw": {SUPERVISOR},
    "can_approve": {SUPERVISOR},
    "can_review_emergency": {SUPERVISOR},
}


@dataclass
class Tree:
    """force > team > sub-team, a sibling team, and another force with a team; one user per role on team."""

    force: Team
    team: Team
    sub: Team
    sibling: Team
    other: Team
    users: dict[str, User]
    author: User


@pytest.fixture
def tree(db) -> Tree:
    force = TeamFactory(name="Force P", slug="force-p")
    team = TeamFactory(name="Team P", slug="team-p", parent=force)
    sub = TeamFactory(name="Unit P", slug="unit-p", parent=team)
    sibling = TeamFactory(name="Team Q", slug="team-q", parent=force)
    other_force = TeamFactory(name="Force R", slug="force-r")
    other = TeamFactory(name="Team R", slug="team-r", parent=other_force)
    users = {role: member(team, role, email=f"{role}-p@engage.test") for role in Role.values}
    author = member(team, OFFICER, email="author-p@engage.test")
    return Tree(force=force, team=team, sub=sub, sibling=sibling, other=other, users=users, author=author)


def _message(tree: Tree, team: Team, urgency: str = "routine") -> Any:
    """The policies read ``team_id``, ``author_id`` and ``urgency`` (duck-typed, like a Message)."""
    return SimpleNamespace(pk=None, team_id=team.pk, author_id=tree.author.pk, urgency=urgency)


@pytest.mark.parametrize("name", sorted(TEAM_POLICIES))
def test_each_team_policy_grants_exactly_its_roles_on_the_team_and_below(tree, name):
    fn = getattr(permissions, name)
    for role, user in tree.users.items():
        for where in (tree.team, tree.team.pk, tree.sub, tree.sub.pk):
            assert fn(user, where) is (role in TEAM_POLICIES[name]), f"{name}: {role} on {where}"
        for where in (tree.force, tree.sibling, tree.other, tree.other.pk):
            assert fn(user, where) is False, f"{name}: {role} of a team reached {where}"


@pytest.mark.parametrize("name", sorted(MESSAGE_POLICIES))
def test_each_message_policy_grants_exactly_its_roles_on_the_team_and_below(tree, name):
    fn = getattr(permissions, name)
    for role, user in tree.users.items():
        for team in (tree.team, tree.sub):
            assert fn(user, _message(tree, team)) is (role in MESSAGE_POLICIES[name]), f"{name}: {role} in {team}"
        for team in (tree.force, tree.sibling, tree.other):
            assert fn(user, _message(tree, team)) is False, f"{name}: {role} reached {team}"


def test_a_role_held_at_force_level_reaches_every_team_of_the_force_and_no_other_force(tree):
    chief = member(tree.force, SUPERVISOR, email="chief-p@engage.test")
    for team in (tree.force, tree.team, tree.sub, tree.sibling):
        assert permissions.roles_in(chief, team) == {SUPERVISOR}
        assert permissions.can_approve(chief, _message(tree, team))
    assert permissions.roles_in(chief, tree.other) == set()
    assert permissions.roles_in(chief, None) == set()
    assert permissions.team_ids(chief) == {tree.force.pk, tree.team.pk, tree.sub.pk, tree.sibling.pk}
    assert permissions.supervised_forces(chief) == [tree.force.pk]


def test_roles_held_on_two_levels_are_both_counted(tree):
    officer = tree.users[OFFICER]
    membership_set(user=officer, team=tree.sub, role=ADMIN)
    permissions.forget(officer)
    assert permissions.roles_in(officer, tree.sub) == {OFFICER, ADMIN}
    assert permissions.roles_in(officer, tree.team) == {OFFICER}
    assert permissions.has_role(officer, tree.sub, {ADMIN}) and not permissions.has_role(officer, tree.team, {ADMIN})


def test_team_ids_are_the_teams_seen_with_sub_teams_and_only_with_the_roles_asked(tree):
    team, sub = tree.team.pk, tree.sub.pk
    for role, user in tree.users.items():
        assert permissions.team_ids(user) == {team, sub}, role
        assert permissions.team_ids(user, {ADMIN}) == ({team, sub} if role == ADMIN else set()), role
        assert permissions.team_ids(user, frozenset({OFFICER, LIAISON})) == (
            {team, sub} if role in (OFFICER, LIAISON) else set()), role
        assert permissions.team_ids_with_ancestors(user) == {tree.force.pk, team, sub}, role
    nobody = UserFactory(email="nobody-p@engage.test")
    assert permissions.team_ids(nobody) == set() and permissions.team_ids_with_ancestors(nobody) == set()


def test_the_audit_is_for_administrators_of_some_team_or_of_the_team_asked(tree):
    for role, user in tree.users.items():
        assert permissions.can_view_audit(user) is (role == ADMIN), role
        assert permissions.can_view_audit(user, None) is (role == ADMIN), role
    assert permissions.can_view_audit(UserFactory(email="nobody-p@engage.test")) is False


def test_the_primary_role_is_the_strongest_held(tree):
    user = UserFactory(email="many-p@engage.test")
    assert permissions.primary_role(user) is None
    for role, expected in ((OFFICER, OFFICER), (LIAISON, LIAISON), (SUPERVISOR, SUPERVISOR), (ADMIN, ADMIN)):
        team = TeamFactory(parent=tree.force)
        membership_set(user=user, team=team, role=role)
        permissions.forget(user)
        assert permissions.primary_role(user) == expected, f"after adding {role}"
    for role, user in tree.users.items():
        assert permissions.primary_role(user) == role


def test_supervised_forces_are_the_forces_where_the_user_supervises_at_force_level(tree):
    assert permissions.supervised_forces(tree.users[SUPERVISOR]) == []  # a team supervisor
    admin = member(tree.force, ADMIN, email="force-admin-p@engage.test")
    assert permissions.supervised_forces(admin) == []
    chief = member(tree.force, SUPERVISOR, email="chief-p@engage.test")
    membership_set(user=chief, team=tree.other.parent, role=SUPERVISOR)
    permissions.forget(chief)
    assert permissions.supervised_forces(chief) == sorted([tree.force.pk, tree.other.parent_id])


def test_two_factor_is_required_of_operators_supervisors_and_administrators(tree):
    for role, user in tree.users.items():
        assert permissions.must_use_2fa(user) is (role in (SUPERVISOR, ADMIN)), role
    operator = User.objects.create_superuser(email="operator-p@engage.test", password="x" * 16)
    assert permissions.must_use_2fa(operator) is True
    assert permissions.is_platform_operator(operator) and permissions.can_pause_everything(operator)
    staff = UserFactory(email="staff-p@engage.test", is_staff=True)
    assert not permissions.is_platform_operator(staff) and not permissions.can_pause_everything(staff)
    assert permissions.must_use_2fa(staff) is False
    for user in tree.users.values():
        assert not permissions.is_platform_operator(user) and not permissions.can_pause_everything(user)


def test_the_restricted_queue_is_for_intelligence_liaisons_of_the_team_and_above(tree):
    liaison = tree.users[LIAISON]
    assert not permissions.can_see_restricted_queue(liaison, tree.team)
    membership_set(user=liaison, team=tree.team, role=LIAISON, intelligence_liaison=True)
    permissions.forget(liaison)
    for where in (tree.team, tree.team.pk, tree.sub, tree.sub.pk):
        assert permissions.can_see_restricted_queue(liaison, where) is True
    for where in (tree.force, tree.sibling, tree.other, None):
        assert permissions.can_see_restricted_queue(liaison, where) is False
    for role, user in tree.users.items():
        if role != LIAISON:
            assert permissions.can_see_restricted_queue(user, tree.team) is False, role


def test_the_cache_holds_until_forgotten(tree):
    officer = tree.users[OFFICER]
    assert permissions.can_draft(officer, tree.team)
    Membership.objects.filter(user=officer).delete()
    assert permissions.can_draft(officer, tree.team)  # cached for the request
    new_team = TeamFactory(parent=tree.team)
    assert permissions.team_ids(officer) == {tree.team.pk, tree.sub.pk}  # the tree is cached too
    permissions.forget(officer)
    assert not permissions.can_draft(officer, tree.team)
    assert not hasattr(officer, "_engage_memberships") or officer._engage_memberships == {}
    membership_set(user=officer, team=tree.team, role=OFFICER)
    permissions.forget(officer)
    assert permissions.team_ids(officer) == {tree.team.pk, tree.sub.pk, new_team.pk}
    permissions.forget(officer)
    permissions.forget(officer)  # twice is fine


# --- the two-person rule's "somebody else" -------------------------------------------------------

def test_approval_and_emergency_rules_turn_on_who_wrote_it(tree):
    supervisor = tree.users[SUPERVISOR]
    other = member(tree.team, SUPERVISOR, email="supervisor2-p@engage.test")
    own = SimpleNamespace(pk=None, team_id=tree.team.pk, author_id=supervisor.pk, urgency="emergency")
    own_routine = SimpleNamespace(pk=None, team_id=tree.team.pk, author_id=supervisor.pk, urgency="routine")
    assert not permissions.can_approve(supervisor, own) and permissions.can_approve(other, own)
    assert permissions.can_emergency_self_approve(supervisor, own)
    assert not permissions.can_emergency_self_approve(supervisor, own_routine)
    assert not permissions.can_emergency_self_approve(other, own)  # not the author: a normal approval
    assert not permissions.can_emergency_self_approve(tree.users[OFFICER], SimpleNamespace(
        pk=None, team_id=tree.team.pk, author_id=tree.users[OFFICER].pk, urgency="emergency"))
    assert not permissions.can_review_emergency(supervisor, own) and permissions.can_review_emergency(other, own)
    assert permissions.wrote_part_of(supervisor, own) and not permissions.wrote_part_of(other, own)
    # A watch of public signals (issue 18): the supervisor who set it up never approves it.
    watch = SimpleNamespace(event=SimpleNamespace(team_id=tree.team.pk), created_by_id=supervisor.pk)
    assert not permissions.can_approve_watch(supervisor, watch) and permissions.can_approve_watch(other, watch)
    assert not permissions.can_approve_watch(tree.users[OFFICER], watch)


def test_whoever_saved_a_version_of_a_message_wrote_part_of_it(world):
    a = world.a
    message = make_submitted(a)
    assert permissions.wrote_part_of(a.officer, message)
    assert not permissions.wrote_part_of(a.supervisor, message)
    assert permissions.can_approve(a.supervisor, message)
    message = message_services.message_update(actor=a.supervisor, message=message, title="Derby day: trains")
    assert permissions.wrote_part_of(a.supervisor, message) and not permissions.can_approve(a.supervisor, message)
    assert not permissions.wrote_part_of(a.supervisor2, message) and permissions.can_approve(a.supervisor2, message)
    unsaved = SimpleNamespace(pk=None, author_id=a.officer.pk, versions=message.versions)
    assert not permissions.wrote_part_of(a.supervisor, unsaved)  # no pk: nothing saved yet


@pytest.mark.parametrize(("name", "keyword"), [
    ("can_publish_event", "draft_authors"),
    ("can_publish_rumour_verdict", "writers"),
])
def test_publishing_a_revision_needs_a_supervisor_who_wrote_none_of_it(tree, name, keyword):
    fn = getattr(permissions, name)
    supervisor = tree.users[SUPERVISOR]
    where: Any = SimpleNamespace(team_id=tree.team.pk) if name == "can_publish_event" else tree.team
    assert fn(supervisor, where, **{keyword: {tree.author.pk}}) is True
    assert fn(supervisor, where, **{keyword: {supervisor.pk, tree.author.pk}}) is False
    for role, user in tree.users.items():
        if role != SUPERVISOR:
            assert fn(user, where, **{keyword: set()}) is False, role


@pytest.mark.parametrize(("name", "keyword"), [
    ("can_review_emergency_publication", "publisher_id"),
    ("can_approve_answer_template", "author_id"),
])
def test_a_second_supervisor_reviews_or_approves_what_another_published_or_wrote(tree, name, keyword):
    fn = getattr(permissions, name)
    supervisor = tree.users[SUPERVISOR]
    assert fn(supervisor, tree.team, **{keyword: tree.author.pk}) is True
    assert fn(supervisor, tree.sub.pk, **{keyword: None}) is True
    assert fn(supervisor, tree.team, **{keyword: supervisor.pk}) is False
    for role, user in tree.users.items():
        if role != SUPERVISOR:
            assert fn(user, tree.team, **{keyword: tree.author.pk}) is False, role


def test_message_policies_answer_for_objects_without_the_optional_fields(tree):
    """Objects are duck-typed: something with only a team (an event, a template) is answered, not a crash."""
    supervisor = tree.users[SUPERVISOR]
    bare = SimpleNamespace(pk=None, team_id=tree.team.pk, author_id=supervisor.pk)  # no urgency
    assert permissions.can_emergency_self_approve(supervisor, bare) is False
    anonymous = SimpleNamespace(pk=None, team_id=tree.team.pk)  # no author: nobody to be "another" than
    assert permissions.can_review_emergency(supervisor, anonymous) is True
    assert permissions.can_review_emergency(tree.users[OFFICER], anonymous) is False


def test_a_request_reads_memberships_and_the_team_tree_once(tree, django_assert_num_queries):
    """Every policy of a page is answered from one read of the user's memberships and one of the tree
    (a membership's fields are all read at once, not one query per field per row)."""
    officer = tree.users[OFFICER]
    membership_set(user=officer, team=tree.sibling, role=LIAISON, intelligence_liaison=True)
    membership_set(user=officer, team=tree.other, role=ADMIN)
    permissions.forget(officer)
    with django_assert_num_queries(2):
        assert permissions.roles_in(officer, tree.sub) == {OFFICER}
        assert permissions.can_see_restricted_queue(officer, tree.sibling)
        assert permissions.team_ids(officer) == {tree.team.pk, tree.sub.pk, tree.sibling.pk, tree.other.pk}
        assert permissions.primary_role(officer) == ADMIN
        assert permissions.can_manage_team(officer, tree.other) and not permissions.can_manage_team(officer, tree.team)
