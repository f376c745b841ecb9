"""The deliveries panel on a message page, and the fragment the page polls to refresh it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import publishing
from campaigns.models import Channel
from campaigns.publishing import deliveries_claim_due, delivery_send
from tests.factories import make_approved

pytestmark = pytest.mark.django_db


def _panel(client, message) -> str:
    response = client.get(f"/desk/messages/{message.pk}/deliveries/")
    assert response.status_code == 200, response.content[:300]
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def _attr(html: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', html)
    assert found, f"{name} missing"
    return found.group(1)


def test_the_panel_polls_while_deliveries_are_due_and_stops_when_they_settle(world, client):
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    client.force_login(world.a.officer)
    page = client.get(f"/desk/messages/{message.pk}/").content.decode()
    assert 'id="deliveries-panel"' in page and "engage/deliveries.js" in page
    html = _panel(client, message)
    assert _attr(html, "data-live") == "1" and _attr(html, "data-interval") == "4"
    assert 'data-status="pending"' in html

    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    html = _panel(client, message)
    assert _attr(html, "data-live") == "0"  # nothing left to go out: the page stops asking
    assert 'data-status="sent"' in html and "1 sent" in html
    assert "Published" in html  # the message's own status is in the panel too


def test_a_delivery_due_later_is_polled_slowly(world, client):
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message,
                                scheduled_at=timezone.now() + timedelta(hours=3))
    client.force_login(world.a.supervisor)
    html = _panel(client, message)
    assert _attr(html, "data-live") == "1" and _attr(html, "data-interval") == "60"
    assert "Due " in html


def test_the_panel_is_only_for_the_messages_team(world, client):
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    client.force_login(world.b.supervisor)
    assert client.get(f"/desk/messages/{message.pk}/deliveries/").status_code == 404
    client.logout()
    response = client.get(f"/desk/messages/{message.pk}/deliveries/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(world.a.officer)
    assert client.post(f"/desk/messages/{message.pk}/deliveries/").status_code == 405


def test_names_in_the_panel_are_escaped(world, client):
    hostile = '<img src=x onerror=alert(1)>"<script>alert(2)</script>'
    # The services strip tags from names; write past them to test the template's own escaping.
    Channel.objects.filter(pk=world.a.public.pk).update(name=hostile)
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    client.force_login(world.a.officer)
    html = _panel(client, message)
    assert "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_panel_shows_what_the_platform_said_about_the_post(world, client):
    message = make_approved(world.a, channels=[world.a.public])
    publishing.message_schedule(actor=world.a.officer, message=message, scheduled_at=None)
    assert [delivery_send(delivery_id=d, token=t) for d, t, _ in deliveries_claim_due()] == ["sent"]
    client.force_login(world.a.officer)
    assert "view" not in _panel(client, message)  # nothing fetched: nothing claimed
    message.deliveries.update(stats_views=1200, stats_shares=1, stats_replies=None, stats_fetched_at=timezone.now())
    html = _panel(client, message)
    assert "1,200 views · 1 share<" in html and "repl" not in html  # a figure the platform never gave is not 0
    response = client.get(f"/api/v1/messages/{message.pk}/deliveries/")
    [row] = response.json()
    assert (row["stats_views"], row["stats_shares"], row["stats_replies"]) == (1200, 1, None)
