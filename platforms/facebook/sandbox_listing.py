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

    def _missing(self, object_id: str, verb: str) -> Reply:  # pragma: no cover
        raise NotImplementedError

    # GET /{object-id}/comments: PagePost.json and Comment.json declare filter, live_filter, order and
    # since; the enums are enum_types.json's (pagepostcomments_*_enum_param); fields and paging as above.
    COMMENT_PARAMS = frozenset({"filter", "live_filter", "order", "since", "fields", "limit", "after", "before"})
    COMMENT_ENUMS = {"filter": ("stream", "toplevel"), "live_filter": ("filter_low_quality", "no_filter"),
                     "order": ("chronological", "reverse_chronological")}
    COMMENT_FIELDS = frozenset({"id", "message", "created_time", "from", "parent", "permalink_url"})

    def list_comments(self, request: Incoming, object_id: str) -> Reply:
        """``GET /{object-id}/comments``: the comments on a post or a comment; ``filter=toplevel``
        (the default) the direct ones, ``stream`` every level; ``order`` chronological (the default)
        or reverse_chronological; ``since``; ``fields`` (``from`` names the Page a Page token
        commented as); ``limit`` and cursors as for the posts list. An unknown object is Graph's
        (#100) "does not exist"; an enum value outside the spec's is (#100) too."""
        with self.state.lock:
            records = [r for r in self.state.records if r.platform == "facebook" and not r.deleted]
        if not any(r.id == object_id and r.is_post for r in records):
            raise Answer(self._missing(object_id, "get"))
        for name, allowed in self.COMMENT_ENUMS.items():
            value = request.param(name)
            if value is not None and value not in allowed:
                raise Answer(self.error(400, f"(#100) param {name} must be one of {{{', '.join(allowed)}}} - "
                                             f"got \"{value}\"", 100))
        wanted = [name for name in (request.param("fields") or "id,message,created_time").split(",") if name]
        for name in wanted:
            if name not in self.COMMENT_FIELDS:
                raise Answer(self.error(400, f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                             "(Comment)", 100))
        since = _graph_time(request.param("since") or "0")
        if since is None:
            raise Answer(self.error(400, "(#100) The parameter since must be a unix timestamp or a "
                                         "strtotime-readable time", 100))
        parents = {object_id}
        chosen = []
        for record in records:  # in creation order, so a reply's parent is seen before it
            if record.op == "comment" and record.data.get("parent") in parents:
                if (request.param("filter") or "toplevel") == "stream":
                    parents.add(record.id)
                elif record.data.get("parent") != object_id:
                    continue
                if record.created_at >= since:
                    chosen.append(record)
        chosen.sort(key=lambda r: r.created_at, reverse=request.param("order") == "reverse_chronological")
        pages = self.state.accounts.facebook_pages
        shown = []
        for record in chosen:
            token = record.headers.get("authorization", "").partition(" ")[2]
            full = {"id": record.id, "message": record.data.get("message") or "",
                    "created_time": _graph_iso(record.created_at), "parent": {"id": record.data.get("parent")},
                    "permalink_url": f"https://www.facebook.com/{record.id}",
                    "from": {"id": pages[token]["id"]} if token in pages else None}
            shown.append({name: full[name] for name in ["id", *wanted] if full.get(name) is not None})
        return self._paged(request, shown, self.COMMENT_PARAMS)

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
        data = []
        for record in posts:
            full = {"id": record.id, "message": record.data.get("message") or "",
                    "created_time": _graph_iso(record.created_at), "updated_time": _graph_iso(record.created_at),
                    "permalink_url": f"https://www.facebook.com/{record.id}", "is_published": True,
                    "status_type": "added_photos" if record.op == "photo_post" else "mobile_status_update",
                    "from": {"id": page_id}}
            if not full["message"]:
                full.pop("message")  # Graph leaves out a field that has no value
            data.append({name: full[name] for name in ["id", *wanted] if name in full})
        return self._paged(request, data, self.LIST_PARAMS)

    def _paged(self, request: Incoming, items: list[dict[str, Any]], known: frozenset[str]) -> Reply:
        """One page of ``items``: ``limit`` 1 to 100 (default 25), the ``after`` cursor,
        ``paging.cursors`` and ``paging.next`` while more remain; unknown parameters ignored."""
        try:
            limit = int(request.param("limit") or 25)
            offset = int(base64.b64decode(request.param("after") or "MA==").decode())  # "0"
        except ValueError:
            raise Answer(self.error(400, "(#100) Invalid paging parameter", 100)) from None
        if not 1 <= limit <= 100:
            raise Answer(self.error(400, "(#100) The limit parameter must be between 1 and 100", 100))
        page = items[offset : offset + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            def cursor(index: int) -> str:
                return base64.b64encode(str(index).encode()).decode()

            body["paging"] = {"cursors": {"before": cursor(offset), "after": cursor(offset + len(page))}}
            if offset + len(page) < len(items):
                query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "after")
                body["paging"]["next"] = (f"{self.state.base_url}{request.path}?{query}&after="
                                          f"{cursor(offset + len(page))}")
        ignored = sorted(name for name in request.query if name not in known)
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
