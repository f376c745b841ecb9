"""What Mastodon tells us: the mentions and quotes of our account, read by polling.

Mastodon has no webhook for an ordinary account: ``engage.inbound.ingest.mastodon_poll`` asks for
the account's notifications every few minutes. This module does the asking and the reading, and
nothing else (no database; see ``platforms.inbound`` for the shared types): :func:`notification_pages`
fetches ``GET /api/v1/notifications`` page by page and reads each page with
:func:`read_mastodon_notifications`; the caller stores each page and moves its cursor to the page's
``last_id`` before asking for the next, so a crash means a page is fetched again, never lost.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any

import httpx

from platforms.base import AdapterError
from platforms.http import Redactor, client_from_config, json_or_empty, send
from platforms.inbound import (
    MAX_ID_CHARS,
    MAX_TEXT_CHARS,
    InboundItem,
    WebhookRejected,
    check_text,
    invalid,
    iso_to_utc,
    type_name,
    want_dict,
    want_str,
)

__all__ = [
    "MASTODON_IGNORE_REASONS",
    "MASTODON_TYPES",
    "IgnoredItem",
    "MastodonPage",
    "PollFailed",
    "html_to_text",
    "notification_pages",
    "parse_mastodon_notifications",
    "read_mastodon_notifications",
]

MAX_HTML_CHARS = 200_000  # Mastodon status HTML before it is turned into text


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "hr"}
)
_SCRIPT_BLOCK = re.compile(
    r"<(script|style|template|noscript|iframe|object|embed|title)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL
)
_TAG_LIKE = re.compile(r"<[^>]*(?:>|$)")
_DROP_CONTENT_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "embed", "title"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment: tags and attributes dropped, link text kept,
    the content of script-like elements dropped, entities decoded. An element whose ``class``
    names one of ``drop_classes`` is dropped with its content (Mastodon's ``quote-inline``)."""

    def __init__(self, drop_classes: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0
        self._drop_classes = drop_classes
        self._class_drop: tuple[str, int] | None = None  # (tag, nesting depth) being dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._class_drop is not None:
            if tag == self._class_drop[0]:
                self._class_drop = (tag, self._class_drop[1] + 1)
            return
        classes = {c for name, value in attrs if name == "class" and value for c in value.split()}
        if classes & self._drop_classes:
            self._class_drop = (tag, 1)
        elif tag in _DROP_CONTENT_TAGS:
            self._dropping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and self._class_drop is None:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._class_drop is not None:
            if tag == self._class_drop[0]:
                depth = self._class_drop[1] - 1
                self._class_drop = (tag, depth) if depth else None
            return
        if tag in _DROP_CONTENT_TAGS:
            self._dropping = max(0, self._dropping - 1)
        elif tag in {"p", "div", "blockquote", "pre", "li"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping and self._class_drop is None:
            self.parts.append(data)


def html_to_text(html: str, *, drop_classes: frozenset[str] = frozenset()) -> str:
    """Plain text of an HTML fragment such as a Mastodon status's ``content``.

    Every tag and attribute goes (so ``href="javascript:…"``, ``onerror=`` and ``<svg onload>``
    go with them); the text inside links stays; ``<script>``/``<style>`` contents go; ``<p>`` and
    ``<br>`` become line breaks; entities are decoded, so ``&lt;b&gt;`` comes out as the five
    characters ``<b>`` the person typed: plain text, to be escaped when shown. Elements whose
    ``class`` is in ``drop_classes`` go with their content.
    """
    parser = _TextExtractor(drop_classes)
    try:
        parser.feed(html)
        # What the parser still holds is an unfinished construct; one starting with "<" is a
        # broken tag (a well-formed status escapes a typed "<" as &lt;), so it is dropped
        # rather than flushed out as text.
        tail = parser.rawdata
        if "<" in tail:
            parser.rawdata = tail[: tail.index("<")]
        parser.close()
        text = "".join(parser.parts)
    except AssertionError:
        # html.parser gives up on some malformed declarations (e.g. "<![foo["). Fall back to
        # removing script-like blocks and anything tag-shaped, then decoding entities.
        stripped = _SCRIPT_BLOCK.sub(" ", html)
        text = htmllib.unescape(_TAG_LIKE.sub(" ", stripped))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    return "\n".join(collapsed).strip()


# What the Mastodon poll asks for (``types[]``): mentions, and quotes of our statuses (Mastodon 4.5,
# API version 7; an older instance ignores a type it does not know). A quote of our status is a
# public answer to it, as a reply is, so it goes to the inbox threaded to the quoted status.
MASTODON_TYPES = ("mention", "quote")

# Why the Mastodon poll left a notification out (``IgnoredItem.reason``): fixed strings, to count by.
MASTODON_TYPE_NOT_HANDLED = "mastodon.type_not_handled"  # not a mention or a quote (the instance ignored types[])
MASTODON_NO_STATUS = "mastodon.no_status"  # a mention or quote without its status (deleted, or hidden from us)
MASTODON_NO_TEXT = "mastodon.no_text"  # the status has no text (only images, say)
MASTODON_UNREADABLE = "mastodon.unreadable"  # not shaped as Mastodon documents a notification
MASTODON_TOO_LONG = "mastodon.too_long"  # more text than MAX_TEXT_CHARS
MASTODON_IGNORE_REASONS = (MASTODON_TYPE_NOT_HANDLED, MASTODON_NO_STATUS, MASTODON_NO_TEXT,
                           MASTODON_UNREADABLE, MASTODON_TOO_LONG)

_SAFE_WORD = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_QUOTE_FALLBACK = frozenset({"quote-inline"})  # Mastodon's "RE: <link>" paragraph for older clients


@dataclass(frozen=True)
class IgnoredItem:
    """One notification the poll did not store, and why. ``detail`` is in our own words (a field
    path, an error code, a documented type name): never the platform's text."""

    provider_id: str  # the notification id, "" when it could not be read
    reason: str  # one of MASTODON_IGNORE_REASONS
    detail: str = ""


@dataclass(frozen=True)
class MastodonPage:
    """One page of notifications read: the replies (``raws[i]`` is the notification of
    ``items[i]``), what was left out, with the reason, and where the next page starts."""

    items: list[InboundItem]
    raws: list[dict[str, Any]]
    ignored: list[IgnoredItem]
    last_id: str = ""  # the newest notification id the page held ("" when none): the next cursor


def _quoted_status_id(status: dict[str, Any], where: str) -> str:
    """The id of the status a status quotes: ``quote.quoted_status.id`` (a Quote) or
    ``quote.quoted_status_id`` (a ShallowQuote); "" when the quote is not shown (pending, revoked...)."""
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return ""
    quoted = quote.get("quoted_status")
    if isinstance(quoted, dict):
        return want_str(quoted.get("id"), f"{where}.status.quote.quoted_status.id")
    return want_str(quote.get("quoted_status_id"), f"{where}.status.quote.quoted_status_id", required=False)


def _mastodon_read(raw: Any, where: str) -> InboundItem | IgnoredItem:
    """One notification as a reply, or why it is not one. Raises WebhookRejected when it is not
    shaped as Mastodon documents it."""
    notification = want_dict(raw, where)
    raw_id = notification.get("id")
    notification_id = raw_id[:MAX_ID_CHARS] if isinstance(raw_id, str) else ""
    kind = notification.get("type")
    if kind not in MASTODON_TYPES:
        shown = kind if isinstance(kind, str) and _SAFE_WORD.match(kind) else "unrecognised"
        return IgnoredItem(notification_id, MASTODON_TYPE_NOT_HANDLED, f"type {shown}")
    status = notification.get("status")
    if status is None:
        return IgnoredItem(notification_id, MASTODON_NO_STATUS, f"a {kind} without its status")
    status = want_dict(status, f"{where}.status")
    status_id = want_str(status.get("id"), f"{where}.status.id")
    account = want_dict(status.get("account") or notification.get("account"), f"{where}.status.account")
    acct = want_str(account.get("acct"), f"{where}.status.account.acct")
    display_name = account.get("display_name")
    # Display names are free text of any length on some servers: shorten rather than refuse.
    display_name = display_name[:MAX_ID_CHARS] if isinstance(display_name, str) else ""
    content = want_str(status.get("content"), f"{where}.status.content", required=False, max_chars=MAX_HTML_CHARS)
    spoiler = want_str(status.get("spoiler_text"), f"{where}.status.spoiler_text", required=False,
                       max_chars=MAX_TEXT_CHARS)
    quoted = _quoted_status_id(status, where)
    # A quote's "RE: <link>" fallback paragraph repeats the quoted post: Mastodon's client guide says
    # to hide it whenever the status has a quote.
    text = html_to_text(content, drop_classes=_QUOTE_FALLBACK if status.get("quote") else frozenset())
    if spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}".strip()
    check_text(text, f"{where}.status.content")
    if not text:
        return IgnoredItem(notification_id, MASTODON_NO_TEXT, f"a {kind} with no text")
    in_reply_to = want_str(status.get("in_reply_to_id"), f"{where}.status.in_reply_to_id", required=False)
    if kind == "quote" and quoted:
        in_reply_to = quoted  # the quote answers the status it quotes: ours
    return InboundItem(
        provider_id=status_id,
        author_handle=f"@{acct.lstrip('@')}",
        author_name=display_name.strip(),
        text=text,
        in_reply_to=in_reply_to,
        received_at=iso_to_utc(status.get("created_at"), f"{where}.status.created_at"),
        kind="mastodon",
    )


def read_mastodon_notifications(payload: Any) -> MastodonPage:
    """A page of ``GET /api/v1/notifications`` (decoded JSON), read one notification at a time.

    Mentions and quotes with text become items (see :func:`parse_mastodon_notifications`); every
    other notification is listed in ``ignored`` with its reason, and so is one that cannot be read,
    so one odd notification never holds up the ones after it. Raises WebhookRejected only when the
    page itself is not an array.
    """
    if not isinstance(payload, list):
        raise invalid(f"notifications: expected an array, got {type_name(payload)}.")
    items: list[InboundItem] = []
    raws: list[dict[str, Any]] = []
    ignored: list[IgnoredItem] = []
    for index, raw in enumerate(payload):
        where = f"notifications[{index}]"
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        notification_id = raw_id[:MAX_ID_CHARS] if isinstance(raw_id, str) else ""
        try:
            result = _mastodon_read(raw, where)
        except WebhookRejected as exc:
            reason = MASTODON_TOO_LONG if exc.status == 413 else MASTODON_UNREADABLE
            field = exc.message.split(":", 1)[0] if exc.message.startswith(where) else where
            ignored.append(IgnoredItem(notification_id, reason, f"{exc.code} at {field}"))
            continue
        if isinstance(result, IgnoredItem):
            ignored.append(result)
        else:
            items.append(result)
            raws.append(raw)
    return MastodonPage(items=items, raws=raws, ignored=ignored)


def parse_mastodon_notifications(payload: list[dict[str, Any]]) -> list[InboundItem]:
    """Mentions and quotes from ``GET /api/v1/notifications?types[]=mention&types[]=quote``
    (already decoded JSON), refusing (WebhookRejected) a notification that cannot be read.

    One item per ``mention`` or ``quote`` notification with a status and some text; other
    notification types are skipped. ``provider_id`` is the status id (what ``in_reply_to_id`` and
    our Mastodon adapter's ``external_id`` also use), ``author_handle`` is ``@`` + ``acct`` (``user``
    for our instance, ``user@host`` for others), the text is the status HTML as plain text (see
    :func:`html_to_text`; a quote's ``quote-inline`` fallback paragraph left out) with any content
    warning (``spoiler_text``) first, and ``received_at`` is the status's ``created_at``.
    ``in_reply_to`` is the status it replies to, or for a quote the status it quotes.
    """
    if not isinstance(payload, list):
        raise invalid(f"notifications: expected an array, got {type_name(payload)}.")
    items: list[InboundItem] = []
    for index, raw in enumerate(payload):
        result = _mastodon_read(raw, f"notifications[{index}]")
        if isinstance(result, InboundItem):
            items.append(result)
    return items


# -- polling ----------------------------------------------------------------------------------------

MASTODON_PAGE = 40
MASTODON_MAX_PAGES = 10
NOT_CONFIGURED = "Missing instance_url or access_token."


class PollFailed(Exception):
    """The poll stopped; ``str(exc)`` says why in our own words (never the instance's text)."""


def _id_order(value: str) -> tuple[int, str]:
    return (len(value), value) if value.isdigit() else (0, value)


def notification_params(last_id: str) -> list[tuple[str, str | int]]:
    """The query of ``GET /api/v1/notifications``: mentions and quotes (see
    :data:`MASTODON_TYPES`), including those the account's notification policy filters
    (``include_filtered``, Mastodon 4.3+: otherwise a private mention from an account we do not
    follow, say, never reaches the inbox; older instances ignore the parameter)."""
    params: list[tuple[str, str | int]] = [("types[]", kind) for kind in MASTODON_TYPES]
    params += [("include_filtered", "true"), ("limit", MASTODON_PAGE)]
    if last_id:
        params.append(("min_id", last_id))
    return params


def notification_pages(
    *, config: Mapping[str, Any], secrets: Mapping[str, str], since_id: str, http: httpx.Client | None = None
) -> Iterator[MastodonPage]:
    """The account's mentions and quotes newer than ``since_id``, one read page at a time.

    ``GET /api/v1/notifications?types[]=mention&types[]=quote&include_filtered=true&min_id=<last>``
    on the channel's ``instance_url`` with its ``access_token``, oldest pages first, at most
    :data:`MASTODON_MAX_PAGES` pages. Each page's ``last_id`` is where the next one starts; the
    caller stores the page before asking for the next. Raises :class:`PollFailed` when the channel
    lacks its instance or token, the instance answers other than 200, the request fails or the
    answer is not what Mastodon sends (the pages already given stay good).
    """
    base = str(config.get("instance_url") or "").rstrip("/")
    token = secrets.get("access_token", "")
    if not base or not token:
        raise PollFailed(NOT_CONFIGURED)
    client = http or client_from_config(config)
    redact = Redactor([token])
    last_id = since_id
    try:
        for _ in range(MASTODON_MAX_PAGES):
            response = send(client, "GET", f"{base}/api/v1/notifications", what="mastodon notifications",
                            retry_safe=True, redact=redact, params=notification_params(last_id),
                            headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise PollFailed(f"mastodon notifications: HTTP {response.status_code}")
            page = json_or_empty(response)
            if isinstance(page, list) and not page:
                return
            read = read_mastodon_notifications(page)
            ids = [str(n.get("id")) for n in page if isinstance(n, dict) and n.get("id") is not None]
            if ids:
                last_id = max(ids, key=_id_order)
            yield replace(read, last_id=last_id if ids else "")
            if len(page) < MASTODON_PAGE:
                return
    except AdapterError as exc:
        raise PollFailed(str(exc)[:500]) from exc
    except WebhookRejected as exc:  # the instance's answer was not what Mastodon sends: never quote it
        raise PollFailed(f"mastodon notifications: the instance's answer could not be read ({exc.code})") from exc
    finally:
        if http is None:
            client.close()
