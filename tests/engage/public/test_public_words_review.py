"""Supervisors find every public word waiting for them in one place, and only their own force's."""

from __future__ import annotations

import pytest

from campaigns.services import events as event_services
from campaigns.services.rumours import rumour_create, rumour_verdict_publish, rumour_verdict_write
from engage.inbound import policies

pytestmark = pytest.mark.django_db


def test_the_review_page_lists_drafts_verdicts_and_templates_of_the_supervisors_teams(world, client):
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, name="Derby rescheduled")
    rumour = rumour_create(actor=tw.officer, event=tw.event, claim="The bridge is shut")
    rumour_verdict_write(actor=tw.officer, rumour=rumour, status="false", explanation="It is open.")
    other = rumour_create(actor=tw.officer, event=tw.event, claim="Trains are cancelled")
    emergency = rumour_verdict_write(actor=tw.supervisor2, rumour=other, status="false", explanation="They run.")
    rumour_verdict_publish(actor=tw.supervisor2, verdict=emergency, emergency=True)
    policies.answer_template_save(actor=tw.supervisor2, team=tw.team, title="Gates", body="Gates open at 13:00.")
    client.force_login(tw.supervisor)
    page = client.get("/desk/public-words/").content.decode()
    for text in ("Derby rescheduled", "The bridge is shut", "Emergency verdicts to review", "Trains are cancelled", "Gates"):
        assert text in page, text
    client.force_login(world.b.supervisor)
    page = client.get("/desk/public-words/").content.decode()
    assert "The bridge is shut" not in page and "Gates" not in page and "Derby rescheduled" not in page
    client.force_login(tw.officer)
    assert client.get("/desk/public-words/").status_code == 403
