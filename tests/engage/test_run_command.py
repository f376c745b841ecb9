"""``manage.py run`` loads the demo data only where it cannot mix with a force's own data."""

from __future__ import annotations

import pytest

from accounts.services import team_create
from engage.management.commands.run import DEMO_FORCE_SLUG, demo_data_wanted

pytestmark = pytest.mark.django_db


def test_the_demo_data_goes_into_an_empty_database():
    assert demo_data_wanted()


def test_the_demo_data_is_refreshed_where_the_demo_force_already_is():
    team_create(name="Northshire Police", slug=DEMO_FORCE_SLUG, timezone="Europe/London")
    team_create(name="Another force", slug="another-force", timezone="Europe/London")
    assert demo_data_wanted()


def test_the_demo_data_never_goes_beside_a_forces_own_data():
    """A real force's database, or one restored from its backup: no demo teams, users or channels."""
    team_create(name="Westshire Constabulary", slug="westshire", timezone="Europe/London")
    assert not demo_data_wanted()
