"""The demo's public site is populated only through the two-person rule (issue 12, section 2)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent
from campaigns.models import Event, Rumour
from engage.inbound import policies
from engage.models import AnswerTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings, request):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"engage-demo-public-{request.node.nodeid}"}}


def test_the_demo_publishes_its_events_rumour_and_templates_through_a_second_person(client):
    call_command("seed_demo", verbosity=0)
    events = list(Event.objects.select_related("published_revision"))
    assert len(events) == 3
    for event in events:
        revision = event.published_revision
        assert revision is not None and revision.published_at is not None
        assert revision.published_by_id != revision.author_id  # a second person, or the seed's marker
        assert client.get(f"/events/{event.pk}/").status_code == 200
    home = client.get("/").content.decode()
    assert "Climate march through the city centre" in home  # happening now
    rumour = Rumour.objects.get(verdicts__isnull=False)  # the encampment's two are only heard, not answered
    verdict = rumour.verdicts.get()
    assert rumour.is_public and verdict.published_by_id != verdict.author_id
    derby = rumour.event
    assert "The derby goes ahead as planned." in client.get(f"/events/{derby.pk}/").content.decode()
    urgent = policies.answer_template_for(team_id=derby.team_id, purpose="urgent", language="en")
    assert urgent is not None and urgent.team_id is None and policies.is_approved(urgent)
    assert AuditEvent.objects.filter(verb="event.published").count() == 3
    call_command("seed_demo", verbosity=0)  # safe to repeat: nothing new to publish
    assert AuditEvent.objects.filter(verb="event.published").count() == 3
    assert Rumour.objects.count() == 3 and AnswerTemplate.objects.filter(approved_version__isnull=True).count() == 0
