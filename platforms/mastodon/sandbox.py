"""Mastodon: statuses (with their counts), media (v2 upload with 202 and polling),
Idempotency-Key, credentials, and the notifications a citizen's mention or quote makes.

The rules follow the official documentation, ``mastodon/documentation`` at commit
``2903485da54a20f1da5e7dfb8b34712e6196e8f7`` (2 July 2026), for Mastodon 4.5 (``mastodon`` API
version 7): ``content/en/methods/{statuses,media,notifications}.md`` and
``content/en/entities/{Notification,Status,Quote,ShallowQuote}.md``.

``GET /api/v1/notifications`` answers as Mastodon's ``Api::V1::NotificationsController`` does:
newest first; ``limit`` 40 by default and at most 80; ``max_id``, ``since_id`` and ``min_id``
(the page just above it, for paging forward); ``types[]`` and ``exclude_types[]`` (a type it does
not know is ignored, never refused); ``account_id``; and ``include_filtered`` (4.3+): a notification
the account's notification policy filtered (say, a private mention from an account it does not
follow) is served only when it is true. Like Rails' strong parameters in production, Mastodon
ignores a query parameter it does not know rather than refusing it; the sandbox does the same, and
lists such parameters in ``X-Sandbox-Ignored-Params`` so that a test can see them
(:data:`NOTIFICATION_PARAMS` are the documented ones). A quote notification (4.5+) carries the
quoting status, whose ``quote`` is a Quote entity with the quoted status and whose content starts
with the ``quote-inline`` "RE:" fallback paragraph, as Mastodon adds it.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from platforms.mastodon.counting import mastodon_length
from platforms.sandbox.core import (
    Answer,
    Incoming,
    Reply,
    Route,
    SandboxState,
    bearer,
    iso_time,
    new_record,
)

# The documented query parameters of GET /api/v1/notifications (methods/notifications.md).
NOTIFICATION_PARAMS = frozenset({"max_id", "since_id", "min_id", "limit", "types[]", "exclude_types[]", "account_id",
                                 "include_filtered", "supported_types[]"})
# Notification types Mastodon 4.5 knows (entities/Notification.md); others in types[] are ignored.
NOTIFICATION_TYPES = frozenset({"mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
                                "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning",
                                "quote", "quoted_update"})
# The documented query parameters of GET /api/v1/accounts/:id/statuses (methods/accounts.md#statuses).
STATUSES_PARAMS = frozenset({"max_id", "since_id", "min_id", "limit", "only_media", "exclude_replies",
                             "exclude_reblogs", "pinned", "tagged"})
FALSE_VALUES = frozenset({"", "0", "f", "false", "off", "F", "FALSE", "OFF", "False", "Off"})  # ActiveModel's Boolean


class MastodonApi:
    platform = "mastodon"
    VISIBILITIES = ("public", "unlisted", "private", "direct")
    MAX_CHARACTERS = 500

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        path, method = request.path, request.method
        if method == "POST" and path in ("/api/v2/media", "/api/v1/media"):
            return Route(self.platform, "media", self.upload_media)
        if method == "GET" and (match := re.fullmatch(r"/api/v1/media/([^/]+)", path)):
            return Route(self.platform, "media_status", lambda r: self.media_status(r, match.group(1)))
        if method == "POST" and path == "/api/v1/statuses":
            return Route(self.platform, "status", self.create_status, creates_post=True)
        if match := re.fullmatch(r"/api/v1/statuses/([^/]+)", path):
            if method == "GET":
                return Route(self.platform, "get_status", lambda r: self.get_status(match.group(1)))
            if method == "DELETE":
                return Route(self.platform, "delete_status", lambda r: self.delete_status(match.group(1)))
        if method == "GET" and path == "/api/v1/notifications":
            return Route(self.platform, "notifications", self.notifications)
        if method == "GET" and (statuses := re.fullmatch(r"/api/v1/accounts/([^/]+)/statuses", path)):
            return Route(self.platform, "account_statuses", lambda r: self.account_statuses(r, statuses.group(1)))
        if method == "GET" and (tag := re.fullmatch(r"/api/v1/timelines/tag/([^/]+)", path)):
            return Route(self.platform, "tag_timeline", lambda r: self.tag_timeline(r, tag.group(1)))
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return Route(self.platform, "verify_credentials", lambda r: Reply(200, self.account(r)))
        if path.startswith("/api/"):
            return Route(self.platform, "unknown", lambda r: self.error(404, "Record not found"))
        return None

    @staticmethod
    def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply(status, {"error": message}, headers or {})

    def authorize(self, request: Incoming) -> None:
        if request.method == "GET" and request.path.startswith("/api/v1/timelines/tag/"):
            return  # a public timeline: no token needed
        token = bearer(request)
        if not token:
            raise Answer(self.error(401, "This method requires an authenticated user"), "auth_refused")
        if token not in self.state.accounts.mastodon or self.state.behaviour(self.platform).auth_expired:
            raise Answer(self.error(401, "The access token is invalid"), "auth_refused")

    def server_error(self) -> Reply:
        return self.error(500, "We're sorry, but something went wrong on our end.")

    def rate_limited(self, retry_after: int) -> Reply:
        reset = iso_time(time.time() + retry_after)
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return self.error(429, "Too many requests", headers)

    def account(self, request: Incoming) -> dict[str, Any]:
        username = self.state.accounts.mastodon.get(bearer(request), "engage")
        return {
            "id": "109000000000000001",
            "username": username,
            "acct": username,
            "display_name": "Engage Sandbox",
            "url": f"{self.state.base_url}/@{username}",
        }

    def upload_media(self, request: Incoming) -> Reply:
        if request.content_type != "multipart/form-data":
            raise Answer(self.error(422, "Validation failed: File can't be blank"))
        upload = request.file("file")
        if upload is None or not upload.content:
            raise Answer(self.error(422, "Validation failed: File can't be blank"))
        if not upload.content_type.startswith(("image/", "video/", "audio/")):
            raise Answer(
                self.error(422, f"Validation failed: File content type is invalid: {upload.content_type}")
            )
        description = request.param("description") or ""
        if len(description) > 1500:
            raise Answer(
                self.error(422, "Validation failed: Description is too long (maximum is 1500 characters)")
            )
        media_id = str(110_000_000_000_000_000 + self.state.next_id())
        pending = self.state.behaviour(self.platform).media_processing
        data = {
            "id": media_id,
            "type": upload.content_type.split("/")[0],
            "url": None if pending else f"{self.state.base_url}/media/{media_id}/original",
            "preview_url": f"{self.state.base_url}/media/{media_id}/small",
            "description": description,
            "blurhash": None,
            "meta": {},
        }
        new_record(self.state, self.platform, "media", request, media_id, is_post=False, data=data)
        with self.state.lock:
            self.state.media_polls[media_id] = pending
        return Reply(202 if pending else 200, data)

    def media_status(self, request: Incoming, media_id: str) -> Reply:
        record = self.state.find(self.platform, media_id, op="media")
        if record is None:
            raise Answer(self.error(404, "Record not found"))
        with self.state.lock:
            remaining = self.state.media_polls.get(media_id, 0)
            if remaining > 0:
                self.state.media_polls[media_id] = remaining - 1
                return Reply(206, record.data)
            record.data["url"] = f"{self.state.base_url}/media/{media_id}/original"
        return Reply(200, record.data)

    def create_status(self, request: Incoming) -> Reply:
        key = request.header("Idempotency-Key")
        token = bearer(request)
        with self.state.lock:
            if key and (earlier := self.state.idempotency.get((self.platform, token, key))):
                record = self.state.find(self.platform, earlier, op="status")
                if record is not None:
                    return Reply(200, record.data)
            text = request.param("status") or ""
            media_ids = request.param_list("media_ids[]") or request.param_list("media_ids")
            if not text.strip() and not media_ids:
                raise Answer(self.error(422, "Validation failed: Text can't be blank"))
            if mastodon_length(text) > self.MAX_CHARACTERS:
                raise Answer(
                    self.error(
                        422, f"Validation failed: Text character limit of {self.MAX_CHARACTERS} exceeded"
                    )
                )
            if len(media_ids) > 4:
                raise Answer(self.error(422, "Validation failed: Cannot attach more than 4 files"))
            attachments = []
            for media_id in media_ids:
                media = self.state.find(self.platform, media_id, op="media")
                if media is None:
                    raise Answer(self.error(422, "Validation failed: Media attachments are invalid"))
                if not media.data.get("url"):
                    raise Answer(
                        self.error(
                            422,
                            "Cannot attach files that have not finished processing. Try again in a moment!",
                        )
                    )
                attachments.append(media.data)
            visibility = request.param("visibility") or "public"
            if visibility not in self.VISIBILITIES:
                raise Answer(self.error(422, "Validation failed: Visibility is not included in the list"))
            reply_to = request.param("in_reply_to_id")
            if reply_to and self.state.find(self.platform, reply_to, op="status") is None:
                raise Answer(self.error(404, "Record not found"))
            status_id = str(110_000_000_000_000_000 + self.state.next_id())
            username = self.state.accounts.mastodon[token]
            data = {
                "id": status_id,
                "created_at": iso_time(),
                "in_reply_to_id": reply_to,
                "visibility": visibility,
                "language": request.param("language"),
                "uri": f"{self.state.base_url}/users/{username}/statuses/{status_id}",
                "url": f"{self.state.base_url}/@{username}/{status_id}",
                "content": as_html(text, self.state.base_url),
                "text": text,
                "media_attachments": attachments,
                "account": self.account(request),
                "replies_count": 0,
                "reblogs_count": 0,
                "favourites_count": 0,
            }
            new_record(self.state, self.platform, "status", request, status_id, is_post=True, data=data)
            if key:
                self.state.idempotency[(self.platform, token, key)] = status_id
        return Reply(200, data)

    def get_status(self, status_id: str) -> Reply:
        record = self.state.find(self.platform, status_id, op="status")
        if record is None or record.deleted:
            raise Answer(self.error(404, "Record not found"))
        figures = self.state.figures(self.platform, record)
        counts = {
            "replies_count": figures["replies"],
            "reblogs_count": figures["reposts"] + figures["quotes"],
            "favourites_count": figures["likes"],
        }
        return Reply(200, {**record.data, **counts})

    def delete_status(self, status_id: str) -> Reply:
        with self.state.lock:
            record = self.state.find(self.platform, status_id, op="status")
            if record is None or record.deleted:
                raise Answer(self.error(404, "Record not found"))
            record.deleted = True
        return Reply(200, record.data)

    def account_statuses(self, request: Incoming, account_id: str) -> Reply:
        """``GET /api/v1/accounts/:id/statuses`` (methods/accounts.md#statuses): the account's
        statuses, newest first; ``limit`` 20 by default and at most 40; ``max_id``, ``since_id``,
        ``min_id``; ``only_media``, ``exclude_replies`` (replies to another account),
        ``exclude_reblogs``, ``pinned``, ``tagged``; paged by the ``Link`` header (``rel="next"``
        with ``max_id``, ``rel="prev"`` with ``min_id``). An unknown account is 404 "Record not
        found". Unknown parameters are ignored, as Mastodon does, and named in
        ``X-Sandbox-Ignored-Params``. ``content`` is HTML, as Mastodon renders it (links shortened)."""
        if account_id != self.account(request)["id"]:
            raise Answer(self.error(404, "Record not found"))
        try:
            limit = abs(int(request.param("limit") or 20))
        except ValueError:
            limit = 20
        limit = min(limit or 20, 40)
        flag = {name: (request.param(name) or "false") not in FALSE_VALUES
                for name in ("only_media", "exclude_replies", "exclude_reblogs", "pinned")}
        with self.state.lock:
            records = [r for r in self.state.posts(self.platform) if r.op == "status"]
            own = {r.id for r in records}
            chosen = [
                r for r in records
                if not (flag["only_media"] and not r.data.get("media_attachments"))
                and not (flag["exclude_replies"] and r.data.get("in_reply_to_id") not in (None, *own))
                and not flag["pinned"]  # the sandbox pins nothing
                and (not request.param("tagged")
                     or f"#{request.param('tagged')}".lower() in str(r.fields.get("status", "")).lower())
            ]
        order = sorted(chosen, key=lambda r: _id_key(r.id))
        for name, keep in (("max_id", lambda n, v: _id_key(n) < _id_key(v)),
                           ("since_id", lambda n, v: _id_key(n) > _id_key(v)),
                           ("min_id", lambda n, v: _id_key(n) > _id_key(v))):
            value = request.param(name)
            if value:
                order = [r for r in order if keep(r.id, value)]
        page = list(reversed(order[:limit] if request.param("min_id") else order[-limit:]))
        statuses = []
        for record in page:
            status = {key: value for key, value in record.data.items() if key != "text"}
            status["created_at"] = iso_time(record.created_at)  # the record's time (the sandbox may age it)
            statuses.append(status)
        headers: dict[str, str] = {}
        if page:
            url = f"{self.state.base_url}/api/v1/accounts/{account_id}/statuses?limit={limit}"
            headers["Link"] = f'<{url}&max_id={page[-1].id}>; rel="next", <{url}&min_id={page[0].id}>; rel="prev"'
        ignored = sorted({name for name in request.query if name not in STATUSES_PARAMS})
        if ignored:
            headers["X-Sandbox-Ignored-Params"] = ",".join(ignored)
        return Reply(200, statuses, headers)

    def tag_timeline(self, request: Incoming, tag: str) -> Reply:
        """``GET /api/v1/timelines/tag/:hashtag`` (methods/timelines.md#tag): public, no token; the
        statuses whose text carries the hashtag, newest first; ``limit`` 20 by default, at most 40;
        ``max_id``, ``since_id``, ``min_id`` (the page just above it). Rate limits and failures
        follow the platform's behaviour switches, as for every route."""
        try:
            limit = min(abs(int(request.param("limit") or 20)) or 20, 40)
        except ValueError:
            limit = 20
        with self.state.lock:
            order = sorted((r for r in self.state.posts(self.platform) if r.op == "status" and not r.deleted
                            and f"#{tag}".lower() in str(r.fields.get("status", "")).lower()),
                           key=lambda r: _id_key(r.id))
        for name in ("max_id", "since_id", "min_id"):
            if value := request.param(name):
                order = [r for r in order if (_id_key(r.id) < _id_key(value) if name == "max_id"
                                              else _id_key(r.id) > _id_key(value))]
        page = list(reversed(order[:limit] if request.param("min_id") else order[-limit:]))
        statuses = [{**{k: v for k, v in r.data.items() if k != "text"}, "created_at": iso_time(r.created_at)}
                    for r in page]
        return Reply(200, statuses)

    # --- notifications ---------------------------------------------------------------------------
    def add_notification(self, document: dict[str, Any]) -> dict[str, Any]:
        """A notification for the sandbox account, as a citizen's action would make it.

        ``{"type": "mention" | "quote" | "favourite" | ..., "text": "...", "acct": "jo@example.social",
        "display_name": "Jo", "in_reply_to_id": "<status id>", "quoted_status_id": "<status id>",
        "visibility": "public", "spoiler_text": "", "filtered": false}``; or ``{"raw": {...},
        "filtered": false}`` to serve a notification exactly as given (a malformed one, say).
        """
        filtered = bool(document.get("filtered", False))
        with self.state.lock:
            notification_id = str(120_000_000_000_000_000 + self.state.next_id())
            if isinstance(document.get("raw"), dict):
                notification = {"id": notification_id, **document["raw"]}
            else:
                notification = self._notification(notification_id, document)
            self.state.mastodon_notifications.append({"notification": notification, "filtered": filtered})
        return notification

    def _notification(self, notification_id: str, document: dict[str, Any]) -> dict[str, Any]:
        kind = str(document.get("type") or "mention")
        acct = str(document.get("acct") or "citizen@example.social")
        account = {"id": str(int(hashlib.sha256(acct.encode()).hexdigest()[:12], 16)), "username": acct.split("@")[0], "acct": acct,
                   "display_name": str(document.get("display_name") or ""),
                   "url": f"https://{acct.split('@')[-1] if '@' in acct else 'sandbox.local'}/@{acct.split('@')[0]}"}
        notification: dict[str, Any] = {"id": notification_id, "type": kind, "created_at": iso_time(),
                                        "group_key": f"ungrouped-{notification_id}", "account": account}
        if kind not in ("mention", "quote", "status", "reblog", "favourite", "poll", "update", "quoted_update"):
            return notification
        status_id = str(110_000_000_000_000_000 + self.state.next_id())
        content = "<p>" + _html_escape(str(document.get("text") or "")) + "</p>"
        status: dict[str, Any] = {
            "id": status_id, "created_at": iso_time(), "in_reply_to_id": document.get("in_reply_to_id"),
            "visibility": str(document.get("visibility") or "public"), "language": "en",
            "spoiler_text": str(document.get("spoiler_text") or ""), "account": account,
            "uri": f"{account['url']}/statuses/{status_id}", "url": f"{account['url']}/{status_id}",
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "media_attachments": [],
            "mentions": [], "quote": None,
        }
        quoted_id = document.get("quoted_status_id")
        if kind == "quote" and quoted_id:
            quoted = self.state.find(self.platform, str(quoted_id), op="status")
            quoted_status = dict(quoted.data) if quoted is not None else {"id": str(quoted_id)}
            status["quote"] = {"state": "accepted", "quoted_status": quoted_status}
            link = quoted_status.get("url") or f"{self.state.base_url}/statuses/{quoted_id}"
            content = f'<p class="quote-inline">RE: <a href="{link}">{link}</a></p>' + content
        status["content"] = content
        notification["status"] = status
        return notification

    def notifications(self, request: Incoming) -> Reply:
        """``GET /api/v1/notifications``: see the module's docstring."""
        include_filtered = (request.param("include_filtered") or "false") not in FALSE_VALUES
        types = set(request.param_list("types[]")) & NOTIFICATION_TYPES
        excluded = set(request.param_list("exclude_types[]"))
        account_id = request.param("account_id")
        try:
            limit = abs(int(request.param("limit") or 40))
        except ValueError:
            limit = 40
        limit = min(limit or 40, 80)
        with self.state.lock:
            chosen = [
                entry["notification"] for entry in self.state.mastodon_notifications
                if (include_filtered or not entry["filtered"])
                and (not types or entry["notification"].get("type") in types)
                and entry["notification"].get("type") not in excluded
                and (not account_id or (entry["notification"].get("account") or {}).get("id") == account_id)
            ]
        order = sorted(chosen, key=lambda n: _id_key(str(n.get("id"))))
        for name, keep in (("max_id", lambda n, v: _id_key(n) < _id_key(v)),
                           ("since_id", lambda n, v: _id_key(n) > _id_key(v)),
                           ("min_id", lambda n, v: _id_key(n) > _id_key(v))):
            value = request.param(name)
            if value:
                order = [n for n in order if keep(str(n.get("id")), value)]
        page = order[:limit] if request.param("min_id") else order[-limit:]
        ignored = sorted({name for name in request.query if name not in NOTIFICATION_PARAMS})
        headers = {"X-Sandbox-Ignored-Params": ",".join(ignored)} if ignored else {}
        return Reply(200, list(reversed(page)), headers)


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value) if value.isdigit() else (0, value)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_LINK_OR_TAG = re.compile(r"(https?://[^\s<>\"]+)|(?<![\w/])#(\w+)", re.IGNORECASE)


def as_html(text: str, base_url: str) -> str:
    """A status's ``content`` as Mastodon renders plain text: paragraphs on blank lines, ``<br />``
    on single line breaks, links as ``<a>`` shortened to 30 characters shown (the rest in an
    ``invisible`` span), hashtags as links to the tag."""

    def piece(chunk: str) -> str:
        out, last = [], 0
        for found in _LINK_OR_TAG.finditer(chunk):
            out.append(_html_escape(chunk[last : found.start()]))
            link, tag = found.group(1), found.group(2)
            if link:
                scheme, _, rest = link.partition("://")
                shown, hidden = rest[:30], rest[30:]
                out.append(f'<a href="{_html_escape(link)}" target="_blank" rel="nofollow noopener" translate="no">'
                           f'<span class="invisible">{scheme}://</span><span class="'
                           f'{"ellipsis" if hidden else ""}">{_html_escape(shown)}</span>'
                           f'<span class="invisible">{_html_escape(hidden)}</span></a>')
            else:
                out.append(f'<a href="{base_url}/tags/{_html_escape(tag.lower())}" class="mention hashtag" '
                           f'rel="tag">#<span>{_html_escape(tag)}</span></a>')
            last = found.end()
        out.append(_html_escape(chunk[last:]))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()] or [""]
    return "".join("<p>" + "<br />".join(piece(line) for line in p.split("\n")) + "</p>" for p in paragraphs)
