"""The event and message pages as issue 16 found them: the flash notices, the deliveries summary,
the meta line and the link to the after-action report."""

from __future__ import annotations

import re

import pytest

from campaigns import publishing
from campaigns.models import Delivery
from tests.factories import make_approved, make_message

pytestmark = pytest.mark.django_db


def _alerts(html: str) -> list[str]:
    return re.findall(r'<div class="alert [^"]*" role="status">(.*?)</div>', html, re.S)


def test_the_event_page_lists_its_messages_without_turning_them_into_notices(world, client):
    tw = world.a
    make_message(tw, title="Road closures on Saturday")
    client.force_login(tw.officer)
    html = client.get(f"/desk/events/{tw.event.pk}/").content.decode()
    assert "Road closures on Saturday" in html
    assert _alerts(html) == []  # no message title shown as a role="status" notice
    # The real "saved" notice appears after saving.
    form = {"name": tw.event.name, "kind": "planned", "starts_at": tw.event.starts_at.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": tw.event.ends_at.strftime("%Y-%m-%dT%H:%M"), "location": "North Stand",
            "hashtags": "#DerbyDay", "risk_level": tw.event.risk_level, "description": tw.event.description,
            "expected_attendance": tw.event.expected_attendance or ""}
    response = client.post(f"/desk/events/{tw.event.pk}/", form, follow=True)
    alerts = _alerts(response.content.decode())
    assert len(alerts) == 1 and alerts[0].startswith("Event saved."), (alerts, response.context["form"].errors)


def test_the_event_page_links_to_its_after_action_report(world, client):
    client.force_login(world.a.officer)
    html = client.get(f"/desk/events/{world.a.event.pk}/").content.decode()
    report = f"/desk/dashboard/events/{world.a.event.pk}/report/"
    assert f'href="{report}">After-action report</a>' in html
    assert client.get(report).status_code == 200


def test_the_deliveries_summary_separates_its_counts_and_the_meta_line_names_the_event_once(world, client):
    tw = world.a
    message = make_approved(tw, channels=[tw.public, tw.mastodon])
    publishing.message_schedule(actor=tw.officer, message=message, scheduled_at=None)
    first = Delivery.objects.filter(message=message).order_by("pk").first()
    Delivery.objects.filter(pk=first.pk).update(status="sent")
    client.force_login(tw.officer)
    html = client.get(f"/desk/messages/{message.pk}/").content.decode()
    summary = re.search(r'<p class="meta" id="deliveries-summary".*?</p>', html, re.S).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", summary))
    assert "1 pending · 1 sent" in text, text
    assert not re.search(r"\S·", text), text
    meta = re.search(r'<p class="meta">(.*?)</p>', html, re.S).group(1)
    assert tw.campaign.name == tw.event.name  # the usual case: the campaign is named after its event
    assert meta.count(tw.event.name) == 1, meta
    assert f'<a href="/desk/events/{tw.event.pk}/">{tw.event.name}</a>' in meta
