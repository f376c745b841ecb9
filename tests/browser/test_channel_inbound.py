"""Issue 13 in a real browser: the channel page's inbound section for administrators, and a Telegram
post too old to delete, warned about before the withdrawal and marked handled after it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import publishing
from campaigns.models import Delivery, DeliveryStatus, Message, MessageStatus
from campaigns.services.channels import channel_create
from engage.inbound.inbound_drops import record_drop
from tests.browser.conftest import shot, sign_in
from tests.browser.test_public import run_axe
from tests.factories import PASSWORD, make_approved, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrators_see_the_webhook_urls_and_what_was_left_out(page, live_server, artifacts_dir, settings):
    settings.ENGAGE_SITE_URL = "https://engage.example.org"
    world = make_world()
    telegram = channel_create(actor=world.a.admin, team=world.a.team, kind="telegram", name="Telegram news",
                              config={"chat_id": "@force_news", "bot_token": "123:abc", "secret_token": "s" * 20})
    record_drop(channel=telegram, reason="telegram.own_channel", detail="channel_post in our own channel")
    sign_in(page, live_server, world.a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/channels/")
    section = page.locator(f"#inbound-{telegram.pk}")
    section.scroll_into_view_if_needed()
    expect(section.locator("code.webhook-url")).to_have_text(
        f"https://engage.example.org/api/v1/inbound/{telegram.pk}/")
    expect(section.get_by_text("A post made by our own Telegram channel")).to_be_visible()
    expect(page.locator(f"#inbound-{world.a.sms.pk}").get_by_text("inbound_url").first).to_be_visible()
    shot(page, artifacts_dir, "channels-inbound")
    bad = run_axe(page, "channels-inbound", artifacts_dir)
    assert not bad, json.dumps(bad, indent=1)
    page.console.assert_clean()


def test_an_old_telegram_post_is_warned_about_and_handled_by_hand(page, live_server, artifacts_dir):
    world = make_world()
    telegram = channel_create(actor=world.a.admin, team=world.a.team, kind="telegram", name="Telegram news",
                              config={"chat_id": "@force_news", "bot_token": "123:abc"})
    message = make_approved(world.a, channels=[telegram], title="Road works for three weeks")
    # Sent three weeks ago (as the publishing engine would have recorded it).
    delivery = Delivery.objects.create(message=message, channel=telegram, idempotency_key="old-tg",
                                       due_at=timezone.now() - timedelta(days=21), status=DeliveryStatus.SENT,
                                       sent_at=timezone.now() - timedelta(days=21), external_id="314",
                                       external_url="https://t.me/force_news/314")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.PUBLISHED)

    sign_in(page, live_server, world.a.supervisor.email, PASSWORD)
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    warning = page.locator("#withdraw-too-old")
    warning.scroll_into_view_if_needed()
    expect(warning).to_contain_text("less than 48 hours old")
    expect(warning).to_contain_text("Telegram news")
    shot(page, artifacts_dir, "withdraw-telegram-too-old")

    publishing.message_withdraw(actor=world.a.supervisor, message=message, reason="Works cancelled")
    publishing.delivery_taken_down(delivery_id=delivery.pk, manual=True,
                                   error="Take-down failed: Telegram lets bots delete a message only while it is "
                                         "less than 48 hours old: remove this post by hand")
    page.goto(f"{live_server.url}/desk/messages/{message.pk}/")
    row = page.locator(f"#delivery-{delivery.pk}")
    expect(row.get_by_text("Remove by hand")).to_be_visible()
    with page.expect_navigation():
        row.get_by_role("button", name="Handled: I removed it").click()
    expect(page.get_by_text("Recorded: the post was removed by hand.")).to_be_visible()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.WITHDRAWN
    bad = run_axe(page, "deliveries-handled", artifacts_dir)
    assert not bad, json.dumps(bad, indent=1)
    page.console.assert_clean()
