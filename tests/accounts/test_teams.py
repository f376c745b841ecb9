"""The team tree and how roles flow down it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import permissions
from accounts.teams import lineage, with_ancestors, with_descendants

TREE = {1: None, 2: 1, 3: 1, 4: 2, 5: None}


def test_lineage_and_closures():
    assert lineage(4, TREE) == [4, 2, 1]
    assert with_ancestors([4, 5], TREE) == {1, 2, 4, 5}
    assert with_descendants([2], TREE) == {2, 4}
    assert with_descendants([1], TREE) == {1, 2, 3, 4}


def test_a_cycle_in_bad_data_does_not_hang():
    assert lineage(1, {1: 2, 2: 1}) == [1, 2]


@given(st.dictionaries(st.integers(1, 30), st.one_of(st.none(), st.integers(1, 30)), min_size=1),
       st.sets(st.integers(1, 30)))
def test_descendants_and_ancestors_agree(parents, chosen):
    below = with_descendants(chosen, parents)
    for team in below:
        assert chosen & set(lineage(team, parents))


@pytest.mark.django_db
def test_force_level_roles_apply_to_units(world):
    from accounts.services import membership_set
    from tests.factories import UserFactory

    chief = UserFactory()
    membership_set(user=chief, team=world.force, role="supervisor")
    assert permissions.can_pause_publishing(chief, world.a.team)
    assert not permissions.can_pause_everything(chief)  # every force: platform operators only
    assert permissions.supervised_forces(chief) == [world.force.pk]
    assert permissions.supervised_forces(world.a.supervisor) == []
    assert permissions.team_ids(chief) == {world.force.pk, world.a.team.pk, world.b.team.pk}
    assert permissions.team_ids(world.a.officer) == {world.a.team.pk}
