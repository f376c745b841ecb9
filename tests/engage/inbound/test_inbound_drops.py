"""Ignored inbound items are counted per channel, reason and day, and shown to administrators (issue 13)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from engage.inbound.inbound_drops import drops_for_channels, record_drop, record_ignored
from engage.inbound.ingest import reply_store
from engage.models import InboundDrop
from platforms.inbound import Ignored
from tests.engage.inbound_helpers import partner_channel, sms_channel, telegram_channel

pytestmark = pytest.mark.django_db


def test_counts_add_up_per_channel_reason_and_day(world):
    channel = telegram_channel(world.a)
    other = partner_channel(world.a)
    monday = datetime(2026, 6, 1, 23, 59, tzinfo=UTC)
    record_drop(channel=channel, reason="telegram.bot", detail="one", at=monday)
    record_drop(channel=channel, reason="telegram.bot", detail="two", at=monday + timedelta(seconds=30))
    record_drop(channel=channel, reason="telegram.bot", at=monday + timedelta(minutes=2))  # the next day (UTC)
    record_drop(channel=channel, reason="telegram.no_text", at=monday)
    record_drop(channel=other.pk, reason="telegram.bot", at=monday)
    rows = {(r.channel_id, r.reason, r.day): r for r in InboundDrop.objects.all()}
    first = rows[(channel.pk, "telegram.bot", monday.date())]
    assert (first.count, first.last_detail, first.last_seen_at) == (2, "two", monday + timedelta(seconds=30))
    assert first.first_seen_at == monday
    assert rows[(channel.pk, "telegram.bot", monday.date() + timedelta(days=1))].count == 1
    assert len(rows) == 4
    summary = drops_for_channels([channel.pk], today=monday.date() + timedelta(days=1))[channel.pk]
    by_reason = {s.reason: s.count for s in summary}
    assert by_reason == {"telegram.bot": 3, "telegram.no_text": 1}
    assert summary[0].label.startswith("Telegram message from a bot")


def test_record_ignored_records_what_a_parser_returned(world):
    channel = sms_channel(world.a)
    assert record_ignored(channel=channel, ignored=[Ignored("sms.no_text", "empty body")] * 3) == 3
    assert InboundDrop.objects.get().count == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drops_are_all_counted(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    channel = telegram_channel(world.a)
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def drop() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                record_drop(channel=channel.pk, reason="telegram.bot")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=drop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert InboundDrop.objects.get().count == 40


def test_the_channel_page_shows_administrators_urls_last_reply_and_drops(world, settings):
    settings.ENGAGE_SITE_URL = "https://engage.example.org"
    tg = telegram_channel(world.a)
    sms_channel(world.a, name="SMS pinned", inbound_url="https://sms.example.org/api/v1/inbound/77/")
    partner = partner_channel(world.a)
    reply_store(team_id=world.a.team.pk, channel=tg, source="telegram", provider_id="1:1", text="Hello")
    record_drop(channel=tg, reason="telegram.own_channel", detail="channel_post in our own channel")
    client = Client()
    client.force_login(world.a.admin)
    page = client.get(reverse("campaigns:channels")).content.decode()
    assert f"https://engage.example.org/api/v1/inbound/{tg.pk}/" in page
    assert "setWebhook" in page and "allowed_updates" in page
    assert "https://sms.example.org/api/v1/inbound/77/" in page  # the pinned inbound_url, given to Twilio
    assert f"https://engage.example.org/api/v1/inbound/{partner.pk}/" in page
    assert "Last reply received" in page and "none yet" in page  # the partner channel has had none
    assert "Last item of any kind (including those left out)" in page  # the Telegram drop came after the reply
    assert 'data-reason="telegram.own_channel"' in page and "A post made by our own Telegram channel" in page
    # World's SMS channel has no inbound_url: the page says how to fix signatures behind a proxy.
    assert "ENGAGE_TRUSTED_PROXIES" in page and "inbound_url" in page


def test_the_inbound_section_is_for_administrators_only(world):
    tg = telegram_channel(world.a)
    record_drop(channel=tg, reason="telegram.bot")
    client = Client()
    client.force_login(world.a.officer)
    page = client.get(reverse("campaigns:channels")).content.decode()
    assert tg.name in page  # the channel is listed ...
    assert "Replies coming in" not in page and "telegram.bot" not in page  # ... its inbound side is not
    client.force_login(world.b.admin)  # another team's administrator
    page = client.get(reverse("campaigns:channels")).content.decode()
    assert f"/api/v1/inbound/{tg.pk}/" not in page


def test_the_channel_form_says_how_to_set_inbound_url_and_the_telegram_secret():
    from campaigns.forms import ChannelForm

    help_text = str(ChannelForm.base_fields["config"].help_text)
    assert '"inbound_url"' in help_text and "Twilio" in help_text and "secret_token" in help_text
