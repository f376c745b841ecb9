"""The permission policy's own rules (accounts/policies/base.py), stated with literal expectations.

``test_policies.py`` checks that a policy's two answers (``may`` and ``queryset``) agree; a change that
breaks both alike (a role table widened, the team lineage ignored, the shared rows offered for every
action) keeps them in agreement. These tests say what each answer must be, person by person, so that
such a change fails here.
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.policies import base
from accounts.policies.base import ModelPolicy, policy_for, register
from tests.factories import make_approved, make_other_force, member

# Who of a team (by the TeamWorld attribute) holds each action on that team's rows: written out, not
# derived from ACTION_ROLES, so that a widened or narrowed table fails.
HOLDERS = {
    "view": {"officer", "supervisor", "supervisor2", "liaison", "admin"},
    "draft": {"officer", "supervisor", "supervisor2"},
    "triage": {"liaison", "supervisor", "supervisor2"},
    "inbox": {"liaison", "supervisor", "supervisor2", "admin"},
    "supervise": {"supervisor", "supervisor2"},
    "administer": {"admin"},
    "oversee": {"supervisor", "supervisor2", "admin"},
}
PEOPLE = ("officer", "supervisor", "supervisor2", "liaison", "admin")


def _channel_policy(**options):
    from campaigns.models import Channel

    return ModelPolicy(Channel, **options)


@pytest.mark.django_db
@pytest.mark.parametrize("action", sorted(HOLDERS))
def test_each_action_is_held_by_exactly_its_roles_on_the_team_and_nobody_elsewhere(world, action):
    policy = _channel_policy()
    mine = world.a.mastodon
    _force_c, c = make_other_force("C")
    for who in PEOPLE:
        user = getattr(world.a, who)
        expected = who in HOLDERS[action]
        assert policy.may(user, action, mine) is expected, (action, who)
        assert policy.queryset(user, action).filter(pk=mine.pk).exists() is expected, (action, who)
        assert policy.allows_any(user, action) is expected, (action, who)
        # The same role in the sister team, or in another force, reaches none of team A's rows.
        for other in (world.b, c):
            stranger = getattr(other, who)
            assert policy.may(stranger, action, mine) is False, (action, who, other.team.name)
            assert not policy.queryset(stranger, action).filter(pk=mine.pk).exists(), (action, who)
    assert policy.may(world.outsider, action, mine) is False
    assert not policy.queryset(world.outsider, action).exists()


@pytest.mark.django_db
def test_without_an_action_the_helpers_answer_for_viewing(world):
    policy = _channel_policy()
    assert policy.team_ids(world.a.liaison) == {world.a.team.pk}
    assert policy.allows_any(world.a.liaison) is True
    assert policy.team_ids(world.outsider) == set()
    assert policy.allows_any(world.outsider) is False
    assert set(policy.queryset(world.a.liaison)) == set(policy.queryset(world.a.liaison, "view"))


@pytest.mark.django_db
def test_a_role_on_the_force_reaches_every_team_below_it_and_a_deactivated_user_nothing(world):
    policy = _channel_policy()
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    for row in (world.a.mastodon, world.b.sms):
        assert policy.may(chief, "supervise", row)
        assert not policy.may(chief, "administer", row)
    assert set(policy.queryset(chief, "supervise")) >= {world.a.mastodon, world.b.sms}
    world.a.supervisor.is_active = False
    world.a.supervisor.save(update_fields=["is_active"])
    from accounts import permissions

    permissions.forget(world.a.supervisor)
    assert not policy.may(world.a.supervisor, "view", world.a.mastodon)
    assert not policy.queryset(world.a.supervisor, "view").exists()


@pytest.mark.django_db
def test_users_who_may_are_the_active_holders_of_the_team_and_the_teams_above_it(world):
    policy = _channel_policy()
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")
    force_admin = member(world.force, Role.ADMIN, email="force-admin@engage.test")
    gone = member(world.a.team, Role.SUPERVISOR, email="gone@engage.test")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    # Two memberships (team and force) are one person, listed once.
    from accounts.services import membership_set

    membership_set(user=world.a.supervisor, team=world.force, role=Role.SUPERVISOR)

    supervise = list(policy.users_who_may("supervise", team_id=world.a.team.pk))
    assert len(supervise) == len(set(supervise))
    assert set(supervise) == {world.a.supervisor, world.a.supervisor2, chief}
    view = set(policy.users_who_may("view", team_id=world.a.team.pk))
    assert view == {getattr(world.a, who) for who in PEOPLE} | {chief, force_admin}
    assert set(policy.users_who_may("administer", team_id=world.b.team.pk)) == {world.b.admin, force_admin}
    # A role held on team A says nothing about the force above it.
    assert set(policy.users_who_may("supervise", team_id=world.force.pk)) == {chief, world.a.supervisor}


@pytest.mark.django_db
def test_rows_without_a_team_are_shared_for_viewing_only_where_the_policy_says_so(world):
    from campaigns.models import PlaybookTemplate

    shared = PlaybookTemplate.objects.create(team=None, title="Shared", body="Shared words")
    own = PlaybookTemplate.objects.create(team=world.a.team, title="Own", body="Own words")
    sharing = ModelPolicy(PlaybookTemplate, shared_without_team=True)
    private = ModelPolicy(PlaybookTemplate)

    library = set(PlaybookTemplate.objects.filter(team=None))  # the shipped library, and ours
    assert shared in library
    assert sharing.may(world.outsider, "view", shared) is True
    assert sharing.may(world.a.supervisor, "draft", shared) is False
    assert private.may(world.a.supervisor, "view", shared) is False
    assert set(sharing.queryset(world.outsider, "view")) == library
    assert set(sharing.queryset(world.a.officer, "view")) == library | {own}
    assert set(sharing.queryset(world.a.officer, "draft")) == {own}
    assert set(private.queryset(world.a.officer, "view")) == {own}
    assert set(private.queryset(world.b.officer, "view")) == set()


@pytest.mark.django_db
def test_restrict_narrows_to_the_given_teams_with_shared_rows_and_through_a_relation(world):
    from campaigns.models import Channel, Delivery, PlaybookTemplate

    shared = PlaybookTemplate.objects.create(team=None, title="Shared", body="Shared words")
    own_a = PlaybookTemplate.objects.create(team=world.a.team, title="A", body="A words")
    PlaybookTemplate.objects.create(team=world.b.team, title="B", body="B words")
    templates = ModelPolicy(PlaybookTemplate)
    everything = PlaybookTemplate.objects.all()
    assert set(templates.restrict(everything, [world.a.team.pk])) == {own_a}
    library = set(PlaybookTemplate.objects.filter(team=None))
    assert shared in library
    assert set(templates.restrict(everything, [world.a.team.pk], shared=True)) == library | {own_a}

    channels = ModelPolicy(Channel)
    a_message, b_message = make_approved(world.a), make_approved(world.b)
    a_delivery = Delivery.objects.create(message=a_message, channel=world.a.public, idempotency_key="restrict-a",
                                         due_at=a_message.created_at)
    Delivery.objects.create(message=b_message, channel=world.b.public, idempotency_key="restrict-b",
                            due_at=b_message.created_at)
    assert set(channels.restrict(Delivery.objects.all(), [world.a.team.pk], via="channel")) == {a_delivery}
    assert set(channels.restrict(Channel.objects.all(), [])) == set()


@pytest.mark.django_db
def test_the_team_of_an_object_follows_the_policy_path_and_a_broken_path_is_no_team(world):
    from accounts.models import Team
    from campaigns.models import Delivery, Message

    team_policy = ModelPolicy(Team, team_path="")
    assert team_policy.team_id_of(world.a.team) == world.a.team.pk
    assert team_policy.may(world.a.officer, "view", world.a.team)
    assert not team_policy.may(world.a.officer, "view", world.b.team)
    assert set(team_policy.queryset(world.a.officer, "view")) == {world.a.team}

    deliveries = ModelPolicy(Delivery, team_path="message__team")
    message = make_approved(world.a)
    delivery = Delivery(message=message, channel=world.a.public, idempotency_key="path")
    assert deliveries.team_id_of(delivery) == world.a.team.pk
    orphan = Delivery(channel=world.a.public, idempotency_key="orphan")
    assert deliveries.team_id_of(orphan) is None
    assert deliveries.may(world.a.supervisor, "view", orphan) is False
    assert ModelPolicy(Message).team_id_of(message) == world.a.team.pk

    class Loose:  # a duck-typed object without the field: no team, so nobody's (and no AttributeError)
        pass

    assert ModelPolicy(Message).team_id_of(Loose()) is None
    assert ModelPolicy(Message).may(world.a.supervisor, "view", Loose()) is False


@pytest.mark.django_db
def test_a_policy_may_change_the_roles_of_an_action_and_refuses_actions_it_does_not_answer(world):
    admins_only = _channel_policy(action_roles={"view": frozenset({Role.ADMIN})})
    assert admins_only.may(world.a.admin, "view", world.a.sms)
    assert not admins_only.may(world.a.supervisor, "view", world.a.sms)
    assert set(admins_only.queryset(world.a.supervisor, "view")) == set()
    # The other actions keep the common table.
    assert admins_only.may(world.a.officer, "draft", world.a.sms)
    anyone = _channel_policy(action_roles={"administer": None})
    assert anyone.may(world.a.officer, "administer", world.a.sms)

    narrow = _channel_policy(actions=("view",))
    with pytest.raises(ValueError, match="has no action 'draft'"):
        narrow.may(world.a.officer, "draft", world.a.sms)
    with pytest.raises(ValueError):
        narrow.queryset(world.a.officer, "draft")
    with pytest.raises(TypeError, match="^ModelPolicy has no option 'team_field'$"):
        _channel_policy(team_field="team")


@pytest.mark.django_db
def test_one_policy_per_model_found_by_class_instance_or_label(world):
    from campaigns.models import Channel, Message

    message_policy = policy_for(Message)
    assert policy_for(make_approved(world.a)) is message_policy
    assert policy_for("campaigns.message") is message_policy
    assert policy_for("Campaigns.Message") is message_policy
    assert policy_for(Message).model is Message
    with pytest.raises(LookupError, match="No permission policy for campaigns.deliveryattempt"):
        policy_for("campaigns.deliveryattempt")

    saved = dict(base._REGISTRY)
    try:
        class Other(ModelPolicy):
            pass

        with pytest.raises(ValueError, match="already has a policy"):
            register(Channel, Other())
        current = policy_for(Channel)
        replacement = register(Channel, type(current)())
        assert policy_for(Channel) is replacement and replacement.model is Channel
        plain = register(Message) if type(message_policy) is ModelPolicy else None
        if plain is not None:
            assert policy_for(Message) is plain
        assert set(base.registered()) == set(saved)
    finally:
        base._REGISTRY.clear()
        base._REGISTRY.update(saved)
