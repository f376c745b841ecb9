"""The review queue: for each message, its channels and segments by name, its send time, its author, and how
long it has waited in plain words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Message, VariantFormat
from campaigns.services import workflow
from campaigns.services.messages import message_update, variant_add
from campaigns.templatetags.waiting import waited
from tests.factories import make_message, make_submitted

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@translation.override("en")
def test_waiting_reads_plainly():
    assert waited(NOW - timedelta(seconds=20), NOW) == "just now"
    assert waited(NOW + timedelta(seconds=5), NOW) == "just now"  # a clock a little ahead is not "-1 minutes"
    assert waited(NOW - timedelta(minutes=1), NOW) == "1 min"
    assert waited(NOW - timedelta(minutes=4, seconds=50), NOW) == "4 min"
    assert waited(NOW - timedelta(hours=1, minutes=59), NOW) == "1 h 59 min"
    assert waited(NOW - timedelta(hours=2), NOW) == "2 h"
    assert waited(NOW - timedelta(hours=2, minutes=5, seconds=59), NOW) == "2 h 5 min"
    assert waited(NOW - timedelta(hours=47, minutes=1), NOW) == "47 h 1 min"
    assert waited(NOW - timedelta(days=2), NOW) == "2 days"
    assert waited(NOW - timedelta(days=3, hours=5), NOW) == "3 days"
    assert waited(None, NOW) == ""


@translation.override("en")
@given(st.integers(min_value=0, max_value=10**8))
def test_waiting_never_says_zero_or_an_unplural_one(seconds):
    text = waited(NOW - timedelta(seconds=seconds), NOW)
    assert not text.startswith("0 ") and not text.startswith("-")
    assert not (text.startswith("1 ") and text.endswith("s"))


def _item(html: str, message_id: int) -> str:
    start = html.index(f'data-message="{message_id}"')
    end = html.find('<li class="card review-item"', start)
    return html[start:end if end != -1 else len(html)]


def test_the_queue_shows_channels_segments_send_time_author_and_wait(world):
    tw = world.a
    message = make_message(tw, channels=[tw.public, tw.mastodon], segments=[tw.segment], title="Gates")
    variant_add(actor=tw.officer, message=message, language="fa", format=VariantFormat.EASY_READ,
                body="متن ساده", segment=tw.segment)
    workflow.message_submit(actor=tw.officer, message=message)
    later = make_submitted(tw, title="Later")
    send_at = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)
    Message.objects.filter(pk=later.pk).update(scheduled_at=send_at)
    Message.objects.filter(pk=message.pk).update(submitted_at=datetime.now(UTC) - timedelta(minutes=4,
                                                                                                      seconds=10))
    client = Client()
    client.force_login(tw.supervisor)
    html = client.get(reverse("campaigns:review")).content.decode()
    row = _item(html, message.pk)
    assert ">Gates<" in row
    assert tw.public.name in row and tw.mastodon.name in row and tw.segment.name in row
    assert f"Farsi · Easy read · {tw.segment.name}" in row and ">fa<" not in row and "easy_read" not in row
    assert tw.officer.display_name in row and "When approved" in row
    assert ">4 min</time>" in row and " ago" not in html and "0 min" not in html
    other = _item(html, later.pk)
    assert "Thu 24 Dec 18:30" in other and ">just now</time>" in other


def test_a_message_back_in_review_after_an_approval_says_so_and_links_to_the_changes(world):
    tw = world.a
    again = make_submitted(tw, title="Again")
    workflow.message_approve(actor=tw.supervisor, message=again)
    message_update(actor=tw.officer, message=again, body="Kick-off moved to 8pm. #DerbyDay")
    workflow.message_submit(actor=tw.officer, message=again)
    fresh = make_submitted(tw, title="Fresh")
    client = Client()
    client.force_login(tw.supervisor2)
    html = client.get(reverse("campaigns:review")).content.decode()
    assert f'href="/desk/messages/{again.pk}/#since-approval"' in _item(html, again.pk)
    assert "#since-approval" not in _item(html, fresh.pk)
