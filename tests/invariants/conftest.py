"""Shared fixtures for the invariant tests: the usual world, plus a second force.

These tests state the product's promises (docs/testing.md lists which mutation of the code
each one is there to catch). They drive the services, not the HTTP layer, so that they keep
holding while the API's shape moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import TeamFactory, TeamWorld, World, make_team_world, make_world


@dataclass
class Forces:
    """``world`` (force 1 with teams A and B) and ``other``: a team of a second force."""

    world: World
    other_force: object
    other: TeamWorld

    @property
    def a(self) -> TeamWorld:
        return self.world.a

    @property
    def b(self) -> TeamWorld:
        return self.world.b

    @property
    def teams(self) -> list[TeamWorld]:
        return [self.world.a, self.world.b, self.other]


def make_forces() -> Forces:
    world = make_world()
    force2 = TeamFactory(name="Second force", slug="second-force")
    return Forces(world=world, other_force=force2, other=make_team_world(force2, "C"))


@pytest.fixture
def forces(db) -> Forces:
    return make_forces()
