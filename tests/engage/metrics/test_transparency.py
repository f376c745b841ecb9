"""The public transparency page: anonymised aggregates only, small numbers suppressed, cacheable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.services import events as event_services
from engage.models import Reply
from tests.engage.metrics_helpers import make_reply
from tests.engage.public_helpers import corrected_rumour
from tests.factories import publish_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def replies(world):
    now = timezone.now()
    tw = world.a
    event_services.event_update(actor=tw.officer, event=tw.event, starts_at=now - timedelta(days=2),
                                ends_at=now - timedelta(days=1))
    publish_event(tw.event, tw.supervisor)  # the page lists events as published
    made = []
    for i in range(12):
        made.append(make_reply(tw.team.pk, received_at=now - timedelta(days=1, minutes=i), channel=tw.mastodon,
                               response_after=600 if i < 9 else None, author_handle=f"@private_person_{i}",
                               author_name=f"Private Person {i}", text=f"My secret question number {i}"))
    return made


def test_shows_aggregates_and_no_personal_data(world, replies, client):
    corrected_rumour(world.a)
    response = client.get("/transparency/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "How well we answer" in html and world.force.name in html
    # 12 needing an answer, 9 answered (75%), median 10 min; corrections: 2 rumour decisions.
    assert ">12<" in html and "75%" in html and "10 min" in html
    assert "Corrections published</dt><dd>2<" in html
    for reply in Reply.objects.all():
        assert reply.author_handle not in html and reply.author_name not in html and reply.text not in html
    assert "private_person" not in html and "secret question" not in html
    assert "outsider@engage.test" not in html and world.a.liaison.email not in html


def test_small_numbers_are_suppressed(world, client):
    make_reply(world.a.team.pk, received_at=timezone.now() - timedelta(hours=3), response_after=60)
    html = client.get("/transparency/").content.decode()
    assert "Fewer than 10 messages needed an answer" in html
    assert "100%" not in html


def test_page_is_public_and_cacheable(world, replies, client, django_assert_max_num_queries):
    first = client.get("/transparency/")
    assert first.status_code == 200
    assert "public" in first["Cache-Control"] and first["ETag"]
    with django_assert_max_num_queries(0):
        again = client.get("/transparency/")
    assert again.content == first.content
    assert client.get("/transparency/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_events_with_enough_replies_are_listed(world, replies, client):
    tw = world.a
    from campaigns.services import messages as message_services

    message = message_services.message_create(actor=tw.officer, campaign=tw.campaign, body="Derby news")
    Reply.objects.filter(pk__in=[r.pk for r in replies]).update(message=message)
    html = client.get("/transparency/").content.decode()
    assert "Recent events" in html and tw.event.name in html


def test_the_90_day_block_counts_what_the_30_day_block_leaves_out(world, replies):
    """Replies from 60 days ago are in the 90-day figures and not in the 30-day ones."""
    from engage.metrics.transparency import transparency_figures

    now = timezone.now()
    for i in range(5):
        make_reply(world.a.team.pk, received_at=now - timedelta(days=60, minutes=i), channel=world.a.mastodon,
                   response_after=None)
    [force] = [f for f in transparency_figures(now=now)["forces"] if f["name"] == world.force.name]
    by_days = {p["days"]: p for p in force["periods"]}
    assert by_days[30]["needing_answer"] == 12 and by_days[30]["answered"] == 9
    assert by_days[90]["needing_answer"] == 17 and by_days[90]["answered"] == 9


def test_durations_are_in_the_visitors_language(world, replies):
    """The median (10 minutes) in the words of the page's language, not in English."""
    from django.test import Client

    for language, words in {"en": "10 min", "cy": "10 mun.", "ar": "10 دقائق", "ru": "10 мин", "so": "10 daqiiqo",
                            "ti": "10 ደቒቕ"}.items():
        html = Client().get(f"/transparency/?lang={language}").content.decode()
        assert f'<html lang="{language}"' in html, language
        assert words in html, language
        if language != "en":
            assert "10 min<" not in html, language
