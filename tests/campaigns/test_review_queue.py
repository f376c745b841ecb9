"""The review queue: for each message, its channels and segments by name, its send time, its author, and how
long it has waited in plain words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Message
from campaigns.templatetags.waiting import waited
from tests.factories import make_submitted

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@translation.override("en")
def test_waiting_reads_plainly():
    assert waited(NOW - timedelta(seconds=20), NOW) == "just now"
    assert waited(NOW + timedelta(seconds=5), NOW) == "just now"  # a clock a little ahead is not "-1 minutes"
    assert waited(NOW - timedelta(minutes=1), NOW) == "1 minute"
    assert waited(NOW - timedelta(minutes=4, seconds=50), NOW) == "4 minutes"
    assert waited(NOW - timedelta(hours=1, minutes=59), NOW) == "1 hour"
    assert waited(NOW - timedelta(hours=2), NOW) == "2 hours"
    assert waited(NOW - timedelta(hours=47), NOW) == "47 hours"
    assert waited(NOW - timedelta(days=3, hours=5), NOW) == "3 days"
    assert waited(None, NOW) == ""


@translation.override("en")
@given(st.integers(min_value=0, max_value=10**8))
def test_waiting_never_says_zero_or_an_unplural_one(seconds):
    text = waited(NOW - timedelta(seconds=seconds), NOW)
    assert not text.startswith("0 ") and not text.startswith("-")
    assert not (text.startswith("1 ") and text.endswith("s"))


def test_the_queue_shows_channels_segments_send_time_author_and_wait(world):
    tw = world.a
    message = make_submitted(tw, channels=[tw.public, tw.mastodon], segments=[tw.segment], title="Gates")
    later = make_submitted(tw, title="Later")
    send_at = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)
    Message.objects.filter(pk=later.pk).update(scheduled_at=send_at)
    Message.objects.filter(pk=message.pk).update(submitted_at=datetime.now(UTC) - timedelta(minutes=4,
                                                                                                      seconds=10))
    client = Client()
    client.force_login(tw.supervisor)
    html = client.get(reverse("campaigns:review")).content.decode()
    row = html[html.index(">Gates<"):html.index(">Later<")]
    assert tw.public.name in row and tw.mastodon.name in row and tw.segment.name in row
    assert tw.officer.display_name in row and "When approved" in row
    assert ">4 minutes</time>" in row and " ago" not in html
    assert "Thu 24 Dec 18:30" in html[html.index(">Later<"):]
    assert ">just now</time>" in html[html.index(">Later<"):]
