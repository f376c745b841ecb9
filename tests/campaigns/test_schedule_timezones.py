"""Times are entered and shown in the team's time zone and stored in UTC, across both clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from campaigns.models import Message
from core.errors import InvalidInput
from core.timeutil import local_to_utc
from tests.factories import make_approved

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # before both 2026 clock changes in London


def schedule_on_page(client, message, local: str):
    return client.post(f"/desk/messages/{message.pk}/schedule/", {"scheduled_at": local}, follow=True)


@pytest.mark.parametrize(("local", "utc"), [
    ("2026-03-28T12:00", datetime(2026, 3, 28, 12, 0, tzinfo=UTC)),   # GMT, the day before spring forward
    ("2026-03-29T03:30", datetime(2026, 3, 29, 2, 30, tzinfo=UTC)),   # BST, just after the clocks went forward
    ("2026-10-25T00:30", datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),  # BST, before falling back
    ("2026-10-25T02:30", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),   # GMT again
])
def test_team_local_times_are_stored_in_utc(world, client, local, utc):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    with time_machine.travel(NOW, tick=False):
        schedule_on_page(client, message, local)
    message.refresh_from_db()
    assert message.scheduled_at == utc
    assert message.deliveries.get().due_at == utc


def test_a_time_skipped_by_the_clocks_going_forward_is_refused(world, client):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    with time_machine.travel(NOW, tick=False):
        page = schedule_on_page(client, message, "2026-03-29T01:30").content.decode()
    message.refresh_from_db()
    assert message.scheduled_at is None
    assert "may not exist" in page  # Django's message for a wall-clock time the zone skips
    with pytest.raises(InvalidInput):
        local_to_utc(datetime(2026, 3, 29, 1, 30), "Europe/London")


def test_the_repeated_hour_when_clocks_go_back_means_the_first_one():
    assert local_to_utc(datetime(2026, 10, 25, 1, 30), "Europe/London") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_times_are_shown_in_the_team_zone(world, client):
    message = make_approved(world.a)
    client.force_login(world.a.officer)
    with time_machine.travel(NOW, tick=False):
        schedule_on_page(client, message, "2026-07-01T09:15")  # 08:15 UTC in summer
        page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert Message.objects.get(pk=message.pk).scheduled_at == datetime(2026, 7, 1, 8, 15, tzinfo=UTC)
    assert "09:15" in page and "BST" in page
