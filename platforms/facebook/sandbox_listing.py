"""Facebook Graph API sandbox: the Page's published posts (``GET /{page-id}/published_posts``),
for the look-up of a post whose publish went unconfirmed.

The operation's parameters are those of the Graph spec, ``facebook/facebook-business-sdk-codegen``
``api_specs/specs/Page.json`` at commit ``ad2b0b6fdfbe4d73ed0754cb4562ef20b72b40d4`` (15 April
2026): ``published_posts`` (and ``posts``) GET takes ``include_hidden``, ``limit``, ``show_expired``
and ``with``; the fields are ``PagePost.json``'s. Graph's paging ("Paginated Results", Graph API
guide) adds ``after``/``before`` cursors and the time-based ``since``/``until``, and ``fields`` selects
what each post carries.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from platforms.sandbox.core import Answer, Incoming, Reply


class PostListing:
    """Mixed into :class:`platforms.facebook.sandbox.GraphApi` (which gives ``state``, ``error`` and
    ``_own_page``)."""

    state: Any

    def error(self, status: int, message: str, code: int, **kwargs: Any) -> Reply:  # pragma: no cover
        raise NotImplementedError

    def _own_page(self, request: Incoming, page_id: str) -> None:  # pragma: no cover
        raise NotImplementedError

    # Query parameters of GET /{page-id}/published_posts: the spec's (Page.json: include_hidden, limit,
    # show_expired, with), Graph's field selection and its cursor and time-based paging
    # ("Paginated Results", Graph API guide: after, before, since, until). Graph ignores others.
    LIST_PARAMS = frozenset({"include_hidden", "limit", "show_expired", "with", "fields", "after", "before",
                             "since", "until"})
    # Fields of a PagePost the sandbox can serve (a subset of PagePost.json's fields).
    POST_FIELDS = frozenset({"id", "message", "created_time", "updated_time", "permalink_url", "is_published",
                             "status_type", "from"})

    def published_posts(self, request: Incoming, page_id: str) -> Reply:
        """``GET /{page-id}/published_posts`` (and ``/posts``): the Page's posts, newest first, photo
        posts included (with the caption as ``message``); ``fields`` (a field PagePost does not have
        is Graph's "(#100) Tried accessing nonexisting field"); ``limit`` at most 100 (default 25);
        ``since``/``until`` as unix seconds or an ISO 8601 time; cursor paging (``paging.cursors``,
        ``paging.next`` while more remain). Unknown parameters are ignored, as Graph does, and named in
        ``X-Sandbox-Ignored-Params``."""
        self._own_page(request, page_id)
        wanted = [name for name in (request.param("fields") or "id,message,created_time").split(",") if name]
        for name in wanted:
            if name not in self.POST_FIELDS:
                raise Answer(self.error(400, f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                             "(PagePost)", 100))
        try:
            limit = int(request.param("limit") or 25)
            offset = int(base64.b64decode(request.param("after") or "MA==").decode())  # "0"
        except ValueError:
            raise Answer(self.error(400, "(#100) Invalid paging parameter", 100)) from None
        if not 1 <= limit <= 100:
            raise Answer(self.error(400, "(#100) The limit parameter must be between 1 and 100", 100))
        bounds = {}
        for name in ("since", "until"):
            value = request.param(name)
            if value is not None:
                moment = _graph_time(value)
                if moment is None:
                    raise Answer(self.error(400, f"(#100) The parameter {name} must be a unix timestamp or a "
                                                 "strtotime-readable time", 100))
                bounds[name] = moment
        with self.state.lock:
            posts = sorted(
                (r for r in self.state.posts(self.platform) if r.op in ("feed", "photo_post")
                 and r.id.startswith(f"{page_id}_")
                 and bounds.get("since", float("-inf")) <= r.created_at <= bounds.get("until", float("inf"))),
                key=lambda r: r.created_at, reverse=True)
        page = posts[offset : offset + limit]
        data = []
        for record in page:
            full = {"id": record.id, "message": record.data.get("message") or "",
                    "created_time": _graph_iso(record.created_at), "updated_time": _graph_iso(record.created_at),
                    "permalink_url": f"https://www.facebook.com/{record.id}", "is_published": True,
                    "status_type": "added_photos" if record.op == "photo_post" else "mobile_status_update",
                    "from": {"id": page_id}}
            if not full["message"]:
                full.pop("message")  # Graph leaves out a field that has no value
            data.append({name: full[name] for name in ["id", *wanted] if name in full})
        body: dict[str, Any] = {"data": data}
        if page:
            def cursor(index: int) -> str:
                return base64.b64encode(str(index).encode()).decode()

            body["paging"] = {"cursors": {"before": cursor(offset), "after": cursor(offset + len(page))}}
            if offset + len(page) < len(posts):
                query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "after")
                body["paging"]["next"] = (f"{self.state.base_url}{request.path}?{query}&after="
                                          f"{cursor(offset + len(page))}")
        ignored = sorted(name for name in request.query if name not in self.LIST_PARAMS)
        return Reply(200, body, {"X-Sandbox-Ignored-Params": ",".join(ignored)} if ignored else {})


def _graph_iso(moment: float) -> str:
    """Graph's time format: ``2026-12-04T22:00:00+0000``."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _graph_time(value: str) -> float | None:
    """``since``/``until``: unix seconds or an ISO 8601 time; None if neither."""
    if value.isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
