"""Mastodon mentions and quotes reach the inbox through the sandbox, as Mastodon 4.5 serves them:
filtered notifications (asked for with ``include_filtered``), quotes threaded to the quoted
status, and every notification left out listed with its reason."""

from __future__ import annotations

import httpx
import pytest

from campaigns.services.channels import channel_create
from engage.inbound.inbound_drops import REASONS, drops_for_channels
from engage.inbound.ingest import mastodon_poll
from engage.models import InboundCursor, InboundDrop, Reply, ReplySource
from platforms import get_adapter
from platforms.base import Payload
from platforms.inbound import MAX_TEXT_CHARS
from platforms.mastodon.inbound import (
    MASTODON_NO_STATUS,
    MASTODON_NO_TEXT,
    MASTODON_TOO_LONG,
    MASTODON_TYPE_NOT_HANDLED,
    MASTODON_UNREADABLE,
    parse_mastodon_notifications,
    read_mastodon_notifications,
)
from platforms.mastodon.sandbox import NOTIFICATION_PARAMS
from platforms.sandbox import Sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(world, sandbox):
    config, secrets = sandbox.config_for("mastodon")
    return channel_create(actor=world.a.admin, team=world.a.team, kind="mastodon", name="Masto",
                          config={**config, **secrets})


def _our_status(sandbox: Sandbox, text: str = "Road closures tonight.") -> str:
    config, secrets = sandbox.config_for("mastodon")
    adapter = get_adapter("mastodon", config=config, secrets=secrets)
    try:
        return adapter.publish(Payload(text=text), idempotency_key=f"k-{text}").external_id
    finally:
        adapter.close()


def _notifications(sandbox: Sandbox, **params) -> httpx.Response:
    _config, secrets = sandbox.config_for("mastodon")
    return httpx.get(f"{sandbox.url}/api/v1/notifications", params=params,
                     headers={"Authorization": f"Bearer {secrets['access_token']}"})


# --- the poll ------------------------------------------------------------------------------------
def test_a_mention_the_notification_policy_filtered_reaches_the_inbox(sandbox, channel):
    ours = _our_status(sandbox)
    sandbox.add_mastodon_notification(type="mention", text="@engage Is the bridge shut?", acct="sam@other.example",
                                      in_reply_to_id=ours, visibility="direct", filtered=True)
    sandbox.add_mastodon_notification(type="mention", text="@engage And the tunnel?", acct="kim@other.example",
                                      in_reply_to_id=ours)

    result = mastodon_poll(channel=channel)

    assert result.new == 2 and result.ignored == [] and result.error == ""
    texts = set(Reply.objects.filter(channel=channel, source=ReplySource.MASTODON).values_list("text", flat=True))
    assert texts == {"@engage Is the bridge shut?", "@engage And the tunnel?"}
    (call,) = [r for r in sandbox.requests("mastodon") if r.op == "notifications"]
    assert call.fields["include_filtered"] == "true"


def test_a_quote_of_our_status_is_a_reply_threaded_to_it_without_the_fallback_link(sandbox, channel):
    ours = _our_status(sandbox)
    sandbox.add_mastodon_notification(type="quote", text="Which roads exactly?", acct="jo@example.social",
                                      display_name="Jo", quoted_status_id=ours)

    assert mastodon_poll(channel=channel).new == 1

    reply = Reply.objects.get(channel=channel)
    assert (reply.text, reply.in_reply_to, reply.author_handle) == ("Which roads exactly?", ours, "@jo@example.social")
    assert reply.raw_payload["type"] == "quote"


def test_the_poll_lists_what_it_left_out_and_one_odd_notification_holds_up_nothing(sandbox, channel):
    account = {"id": "7", "acct": "odd@example.social"}
    status = {"id": "1", "content": "<p>x</p>", "created_at": "2026-12-01T10:00:00Z", "account": account}
    sandbox.add_mastodon_notification(raw={"type": "mention", "created_at": "2026-12-01T10:00:00Z", "account": account,
                                           "status": {**status, "created_at": "yesterday"}})
    sandbox.add_mastodon_notification(raw={"type": "mention", "created_at": "2026-12-01T10:00:00Z", "account": account})
    sandbox.add_mastodon_notification(type="mention", text="", acct="pics@example.social")  # an image, no words
    sandbox.add_mastodon_notification(raw={"type": "mention", "account": account, "status": {
        **status, "id": "2", "content": "<p>" + "a" * (MAX_TEXT_CHARS + 1) + "</p>"}})
    last = sandbox.add_mastodon_notification(type="mention", text="Still here?", acct="late@example.social")

    result = mastodon_poll(channel=channel)

    assert result.new == 1 and Reply.objects.get(channel=channel).text == "Still here?"
    # In the order the instance served them: newest first.
    assert [item.reason for item in result.ignored] == [MASTODON_TOO_LONG, MASTODON_NO_TEXT, MASTODON_NO_STATUS,
                                                        MASTODON_UNREADABLE]
    assert result.ignored[-1].detail == "payload.invalid at notifications[4].status.created_at"
    assert all("yesterday" not in item.detail for item in result.ignored)
    assert InboundCursor.objects.get(channel=channel).last_id == last["id"]  # the cursor moved past them all
    assert "2 notifications could not be read" in result.error
    assert mastodon_poll(channel=channel).error == ""  # nothing new: nothing to say


def test_every_notification_the_poll_left_out_is_counted_for_the_administrators(sandbox, channel):
    account = {"id": "7", "acct": "odd@example.social"}
    sandbox.add_mastodon_notification(raw={"type": "mention", "created_at": "2026-12-01T10:00:00Z", "account": account})
    sandbox.add_mastodon_notification(type="mention", text="", acct="pics@example.social")
    sandbox.add_mastodon_notification(type="mention", text="", acct="more-pics@example.social")
    sandbox.add_mastodon_notification(type="mention", text="A real question", acct="late@example.social")

    result = mastodon_poll(channel=channel)

    assert result.new == 1
    counted = {row.reason: row.count for row in InboundDrop.objects.filter(channel=channel)}
    assert counted == {MASTODON_NO_TEXT: 2, MASTODON_NO_STATUS: 1}
    assert all(reason in REASONS for reason in counted)  # each has its sentence on the channel page
    shown = {summary.reason: summary.count for summary in drops_for_channels([channel.pk])[channel.pk]}
    assert shown == counted
    mastodon_poll(channel=channel)  # nothing new: nothing counted again
    assert {row.reason: row.count for row in InboundDrop.objects.filter(channel=channel)} == counted


def test_the_poll_sends_only_parameters_mastodon_documents(sandbox, channel):
    sandbox.add_mastodon_notification(type="mention", text="Hello?")
    mastodon_poll(channel=channel)
    mastodon_poll(channel=channel)
    calls = [r for r in sandbox.requests("mastodon") if r.op == "notifications"]
    assert len(calls) == 2 and all(set(call.fields) <= NOTIFICATION_PARAMS for call in calls)
    assert calls[1].fields["min_id"] == InboundCursor.objects.get(channel=channel).last_id


# --- the sandbox, as Mastodon 4.5 answers --------------------------------------------------------
def test_the_sandbox_serves_filtered_notifications_only_when_asked(sandbox):
    sandbox.add_mastodon_notification(type="mention", text="filtered", filtered=True)
    sandbox.add_mastodon_notification(type="mention", text="shown")
    shown = _notifications(sandbox).json()
    assert [n["status"]["content"] for n in shown] == ["<p>shown</p>"]
    for false in ("false", "0", "off"):
        assert len(_notifications(sandbox, include_filtered=false).json()) == 1
    assert len(_notifications(sandbox, include_filtered="true").json()) == 2


def test_the_sandbox_pages_like_mastodon_and_ignores_what_it_does_not_know(sandbox):
    made = [sandbox.add_mastodon_notification(type="mention", text=f"n{i}") for i in range(85)]
    sandbox.add_mastodon_notification(type="favourite")
    everything = _notifications(sandbox, limit=500, **{"types[]": ["mention", "no_such_type"]})
    assert len(everything.json()) == 80  # at most 80; an unknown type is ignored, not refused
    assert everything.json()[0]["id"] == made[-1]["id"]  # newest first
    forward = _notifications(sandbox, min_id=made[9]["id"], limit=5).json()
    assert [n["id"] for n in forward] == [m["id"] for m in reversed(made[10:15])]
    unknown = _notifications(sandbox, only_direct=1)
    assert unknown.status_code == 200 and unknown.headers["X-Sandbox-Ignored-Params"] == "only_direct"
    assert [n["type"] for n in _notifications(sandbox, **{"exclude_types[]": "mention"}).json()] == ["favourite"]


def test_a_sandbox_quote_carries_the_quoted_status_and_the_fallback_paragraph(sandbox):
    ours = _our_status(sandbox)
    sandbox.add_mastodon_notification(type="quote", text="Why?", quoted_status_id=ours)
    (quote,) = _notifications(sandbox, **{"types[]": "quote"}).json()
    assert quote["status"]["quote"]["state"] == "accepted"
    assert quote["status"]["quote"]["quoted_status"]["id"] == ours
    assert quote["status"]["content"].startswith('<p class="quote-inline">RE: ')


# --- reading, without the network ---------------------------------------------------------------
def _quote(**status) -> dict:
    return {"id": "9001", "type": "quote", "created_at": "2026-12-01T10:00:00Z", "account": {"acct": "jo"},
            "status": {"id": "5001", "created_at": "2026-12-01T10:00:00Z", "in_reply_to_id": None,
                       "account": {"acct": "jo", "display_name": "Jo"},
                       "content": '<p class="quote-inline">RE: <a href="https://x/1">https://x/1</a></p><p>Why?</p>',
                       **status}}


def test_a_shallow_quote_threads_too_and_a_pending_one_keeps_its_reply_or_nothing():
    [shallow] = parse_mastodon_notifications([_quote(quote={"state": "accepted", "quoted_status_id": "42"})])
    assert (shallow.text, shallow.in_reply_to) == ("Why?", "42")
    [pending] = parse_mastodon_notifications([_quote(quote={"state": "pending", "quoted_status": None})])
    assert (pending.text, pending.in_reply_to) == ("Why?", "")


def test_a_quote_inline_paragraph_is_kept_when_the_status_has_no_quote():
    [mention] = parse_mastodon_notifications([{**_quote(), "type": "mention"}])
    assert mention.text.startswith("RE: https://x/1")  # without a quote it is the person's own text


def test_an_unrequested_type_is_left_out_with_a_reason_that_never_echoes_odd_input():
    page = read_mastodon_notifications([
        {"id": "1", "type": "favourite", "account": {"acct": "a"}},
        {"id": "2", "type": "<script>", "account": {"acct": "a"}},
    ])
    assert page.items == [] and [(i.provider_id, i.reason, i.detail) for i in page.ignored] == [
        ("1", MASTODON_TYPE_NOT_HANDLED, "type favourite"),
        ("2", MASTODON_TYPE_NOT_HANDLED, "type unrecognised"),
    ]
