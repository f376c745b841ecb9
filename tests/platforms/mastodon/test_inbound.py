"""Reading what Mastodon tells us: notifications as replies (platforms.mastodon.inbound)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platforms.inbound import MAX_TEXT_CHARS, InboundItem, WebhookRejected
from platforms.mastodon.inbound import (
    PollFailed,
    html_to_text,
    notification_pages,
    parse_mastodon_notifications,
)

# -- Mastodon ---------------------------------------------------------------------------------------


def _mention(content: str, **status: Any) -> dict[str, Any]:
    account = {"id": "109", "username": "jo", "acct": "jo@example.social", "display_name": "Jo B"}
    return {
        "id": "5001",
        "type": "mention",
        "created_at": "2026-06-01T18:30:05.000Z",
        "account": account,
        "status": {
            "id": "110001",
            "created_at": "2026-06-01T18:30:00.000Z",
            "in_reply_to_id": "109999",
            "spoiler_text": "",
            "visibility": "public",
            "content": content,
            "account": account,
            **status,
        },
    }


def test_parse_mastodon_mention() -> None:
    content = (
        '<p><span class="h-card"><a href="https://police.social/@force" class="u-url mention">'
        "@<span>force</span></a></span> Is the <a href=\"https://example.org/map\">map</a> right?</p>"
        "<p>Second line &amp; more</p>"
    )
    follow = {"id": "5002", "type": "follow", "created_at": "2026-06-01T18:00:00Z", "account": {"acct": "x"}}
    [item] = parse_mastodon_notifications([_mention(content), follow])
    assert item == InboundItem(
        provider_id="110001",
        author_handle="@jo@example.social",
        author_name="Jo B",
        text="@force Is the map right?\n\nSecond line & more",
        in_reply_to="109999",
        received_at=datetime(2026, 6, 1, 18, 30, tzinfo=UTC),
        kind="mastodon",
    )


def test_parse_mastodon_content_warning_comes_first_and_no_reply_is_empty() -> None:
    [item] = parse_mastodon_notifications([_mention("<p>Body</p>", spoiler_text="CW: crowd", in_reply_to_id=None)])
    assert item.text == "CW: crowd\n\nBody"
    assert item.in_reply_to == ""


XSS_PAYLOADS = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(2)">click me</a>',
    '<svg onload=alert(3)><script>alert(4)</script><a xlink:href="javascript:alert(5)">svg link</a></svg>',
    '<iframe src="javascript:alert(6)"></iframe>',
    '<p style="background:url(javascript:alert(7))" onclick="alert(8)">para</p>',
    "<style>body{background:url('javascript:alert(9)')}</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(10)">',
    '<object data="javascript:alert(11)"></object><embed src="javascript:alert(12)">',
    '<body onload="alert(13)">',
    "<!-- <script>alert(14)</script> -->",
    '<a href="&#106;avascript:alert(15)">encoded</a>',
]


def test_mastodon_xss_payloads_come_out_as_inert_plain_text() -> None:
    content = ""
    index = 0
    while len(content) < 10_000:
        content += XSS_PAYLOADS[index % len(XSS_PAYLOADS)]
        index += 1
    [item] = parse_mastodon_notifications([_mention(content)])
    text = item.text
    assert "<" not in text and ">" not in text  # no tag of any kind survives
    for dangerous in ("javascript:", "onerror", "onload", "onclick", "alert(", "script", "xlink", "style"):
        assert dangerous not in text.lower()
    assert "click me" in text and "svg link" in text  # link text is kept


def test_mastodon_escaped_markup_stays_literal_text() -> None:
    typed = "&lt;script&gt;alert(1)&lt;/script&gt; I &lt;3 the police"
    [item] = parse_mastodon_notifications([_mention(f"<p>{typed}</p>")])
    assert item.text == "<script>alert(1)</script> I <3 the police"  # what the person typed, as text
    assert "<script>" not in html.escape(item.text)  # and it is inert once escaped for display


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"not": "a list"}, "notifications: expected an array"),
        (["x"], "notifications[0]: expected an object"),
        ([_mention("<p>hi</p>", id=110001)], "notifications[0].status.id: expected a string"),
        ([_mention("<p>hi</p>", created_at="not a date")], "notifications[0].status.created_at"),
        ([_mention("<p>hi</p>", account={"acct": 5})], "notifications[0].status.account.acct"),
    ],
)
def test_parse_mastodon_rejects_malformed(payload: Any, fragment: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_mastodon_notifications(payload)
    assert caught.value.status == 400
    assert fragment in caught.value.message


def test_parse_mastodon_text_too_long_is_413() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_mastodon_notifications([_mention("<p>" + "a" * (MAX_TEXT_CHARS + 1) + "</p>")])
    assert (caught.value.status, caught.value.code) == (413, "payload.too_large")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_html_to_text_never_raises_and_leaves_no_tags(markup: str) -> None:
    text = html_to_text(markup)
    assert isinstance(text, str)
    if "&" not in markup:  # entities may legitimately decode to "<"
        assert "<script" not in text.lower()


# -- the poll's reading, without storing ------------------------------------------------------------


def test_notification_pages_reads_page_by_page_and_says_where_the_next_starts(sandbox):
    config, secrets = sandbox.config_for("mastodon")
    sandbox.add_mastodon_notification(type="mention", text="@engage First?", acct="first@example.social")
    [first] = notification_pages(config=config, secrets=secrets, since_id="")
    assert [item.text for item in first.items] == ["@engage First?"] and first.last_id
    for n in range(45):
        sandbox.add_mastodon_notification(type="mention", text=f"@engage Question {n}?", acct=f"p{n}@example.social")

    pages = list(notification_pages(config=config, secrets=secrets, since_id=first.last_id))

    assert [len(page.items) for page in pages] == [40, 5]  # oldest pages first, 40 a page (each newest first)
    assert {item.text for item in pages[0].items} == {f"@engage Question {n}?" for n in range(40)}
    assert all(page.ignored == [] and len(page.raws) == len(page.items) for page in pages)
    for page in pages:  # the next page starts after the newest notification of this one
        assert page.last_id == max((raw["id"] for raw in page.raws), key=lambda i: (len(i), i))
    assert list(notification_pages(config=config, secrets=secrets, since_id=pages[1].last_id)) == []


def test_notification_pages_fails_in_our_own_words(sandbox):
    config, _secrets = sandbox.config_for("mastodon")
    with pytest.raises(PollFailed, match="HTTP 401"):
        list(notification_pages(config=config, secrets={"access_token": "wrong"}, since_id=""))
    with pytest.raises(PollFailed, match="Missing instance_url or access_token"):
        list(notification_pages(config={}, secrets={"access_token": "t"}, since_id=""))
    assert [r for r in sandbox.requests("mastodon") if r.op == "notifications"][1:] == []  # one call: the 401
