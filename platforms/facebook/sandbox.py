"""Facebook Graph API: /me, /debug_token, Page feed and photos, comments, GET (with the
``shares``, ``comments`` and ``reactions`` summaries) and DELETE of objects, post insights.

What it refuses, and where the rule comes from:

* an API version Graph does not have: 400, ``OAuthException`` code 2500 "Unknown path components"
  (what Graph answers for a mistyped version). Versions are those of
  ``platforms.facebook.graph_versions`` (Meta's versions changelog, read 4 December 2026); one
  past its end of life is answered as Graph does, by the oldest version still available, named in
  the ``facebook-api-version`` header that Graph sends with every answer;
* an insights metric Graph no longer offers: 400, code 100, "(#100) The value must be a valid
  insights metric". Meta deprecated the impressions metrics on every API version from 15 November
  2025 in favour of the views metrics ("Page Insights API Updates", Meta for Developers blog, 15
  August 2025) and the remaining ``post_impressions_*`` reach metrics by June 2026 (the
  "Deprecated Facebook Page Insights Metrics" page: ``post_impressions_unique`` became
  ``post_total_media_view_unique``);
* an insights ``period`` or ``date_preset`` outside the enums of the Graph spec,
  ``facebook/facebook-business-sdk-codegen`` ``api_specs/specs/PagePost.json`` and
  ``enum_types.json`` at commit ``ad2b0b6fdfbe4d73ed0754cb4562ef20b72b40d4`` (15 April 2026):
  400, code 100. The same spec's ``Page.json`` (``feed``, ``photos``), ``Photo.json`` and
  ``Comment.json`` list the parameters of the other calls.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from platforms.facebook.graph_versions import GRAPH_VERSIONS, is_available, oldest_available
from platforms.facebook.sandbox_listing import PostListing
from platforms.sandbox.core import (
    Answer,
    Incoming,
    Reply,
    Route,
    SandboxState,
    bearer,
    new_record,
)


class GraphApi(PostListing):
    platform = "facebook"

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        match = re.fullmatch(r"/(v\d+\.\d+)/(.+)", request.path)
        if not match:
            return None
        version = match.group(1)
        if version not in GRAPH_VERSIONS:
            rest = match.group(2).strip("/")
            return Route(self.platform, "unknown_version", lambda r: self.error(
                400, f"Unknown path components: /{rest}", 2500))
        route = self._route(request, match.group(2).strip("/"))
        today = datetime.now(UTC).date()
        answered = version if is_available(version, today) else oldest_available(today)

        def versioned(r: Incoming) -> Reply:
            reply = route.handler(r)
            reply.headers.setdefault("facebook-api-version", answered)
            return reply

        return Route(route.platform, route.op, versioned, route.creates_post)

    def _route(self, request: Incoming, node: str) -> Route:
        method = request.method
        if method == "GET" and node == "me":
            return Route(self.platform, "me", self.me)
        if method == "GET" and node == "debug_token":
            return Route(self.platform, "debug_token", self.debug_token)
        if method == "GET" and (insights := re.fullmatch(r"([0-9_]+)/insights", node)):
            return Route(self.platform, "insights", lambda r: self.insights(r, insights.group(1)))
        if method == "GET" and (listing := re.fullmatch(r"(\d+)/(published_posts|posts)", node)):
            return Route(self.platform, "published_posts", lambda r: self.published_posts(r, listing.group(1)))
        edge = re.fullmatch(r"(\d+)/(feed|photos)", node)
        if method == "POST" and edge and edge.group(2) == "feed":
            return Route(
                self.platform, "feed", lambda r: self.create_feed_post(r, edge.group(1)), creates_post=True
            )
        if method == "POST" and edge:
            published = (request.param("published") or "true").lower() != "false"
            return Route(
                self.platform, "photos", lambda r: self.create_photo(r, edge.group(1)), creates_post=published
            )
        if method == "GET" and (thread := re.fullmatch(r"([0-9_]+)/comments", node)):
            return Route(self.platform, "list_comments", lambda r: self.list_comments(r, thread.group(1)))
        if method == "POST" and node.endswith("/comments") and node.count("/") == 1:
            return Route(
                self.platform,
                "comment",
                lambda r: self.create_comment(r, node.split("/")[0]),
                creates_post=True,
            )
        if "/" not in node and method == "GET":
            return Route(self.platform, "get_object", lambda r: self.get_object(node, r))
        if "/" not in node and method == "DELETE":
            return Route(self.platform, "delete_object", lambda r: self.delete_object(node))
        return Route(self.platform, "unknown", lambda r: self._missing(node, method.lower()))

    def error(
        self,
        status: int,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": uuid.uuid4().hex[:11].upper(),
        }
        if subcode is not None:
            body["error_subcode"] = subcode
        if transient:
            body["is_transient"] = True
        return Reply(status, {"error": body}, headers or {})

    def _missing(self, object_id: str, verb: str) -> Reply:
        return self.error(
            400,
            f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )

    def authorize(self, request: Incoming) -> None:
        token = bearer(request) or request.param("access_token") or ""
        if not token:
            raise Answer(
                self.error(
                    400,
                    "An active access token must be used to query information about the current user.",
                    2500,
                ),
                "auth_refused",
            )
        if token not in self.state.accounts.facebook_pages:
            raise Answer(
                self.error(400, "Invalid OAuth access token - Cannot parse access token", 190), "auth_refused"
            )
        expires_at = int(self.state.accounts.facebook_pages[token].get("expires_at") or 0)
        if expires_at and expires_at <= time.time():
            expired = format_datetime(datetime.fromtimestamp(expires_at, UTC), usegmt=True)
            raise Answer(
                self.error(
                    400, f"Error validating access token: Session has expired on {expired}.", 190, subcode=463
                ),
                "auth_refused",
            )
        if self.state.behaviour(self.platform).auth_expired:
            expired = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
            raise Answer(
                self.error(
                    400, f"Error validating access token: Session has expired on {expired}.", 190, subcode=463
                ),
                "auth_refused",
            )

    def server_error(self) -> Reply:
        return self.error(
            500, "An unexpected error has occurred. Please retry your request later.", 2, transient=True
        )

    def rate_limited(self, retry_after: int) -> Reply:
        page = next(iter(self.state.accounts.facebook_pages.values()), {"id": "0"})["id"]
        minutes = max(1, -(-retry_after // 60))
        usage = {
            page: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 25,
                    "total_time": 25,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        return self.error(
            400,
            "There have been too many calls to this Page account. Wait a bit and try again.",
            80001,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    def page(self, request: Incoming) -> dict[str, str]:
        """The Page whose token this request carries (authorize() has checked it)."""
        return self.state.accounts.facebook_pages[bearer(request) or request.param("access_token") or ""]

    def _own_page(self, request: Incoming, page_id: str) -> None:
        if self.page(request)["id"] != page_id:
            raise Answer(self.error(403, "(#200) The Page access token does not belong to this Page", 200))

    def me(self, request: Incoming) -> Reply:
        page = self.page(request)
        wanted = [name for name in (request.param("fields") or "id,name").split(",") if name]
        return Reply(200, {name: page[name] for name in wanted if name in page} | {"id": page["id"]})

    def _post_id(self, page_id: str) -> str:
        return f"{page_id}_{900_000_000_000_000 + self.state.next_id()}"

    def create_feed_post(self, request: Incoming, page_id: str) -> Reply:
        self._own_page(request, page_id)
        message = request.param("message") or ""
        link = request.param("link") or ""
        attached = [
            value
            for key, values in request.form.items()
            if key.startswith("attached_media[")
            for value in values
        ]
        if not message.strip() and not link and not attached:
            raise Answer(self.error(400, "(#100) Missing message or attachment", 100))
        photos = []
        with self.state.lock:
            for raw in attached:
                try:
                    fbid = str(json.loads(raw)["media_fbid"])
                except (ValueError, KeyError, TypeError):
                    raise Answer(
                        self.error(
                            400,
                            "(#100) param attached_media must be an array of objects with media_fbid",
                            100,
                        )
                    ) from None
                photo = self.state.find(self.platform, fbid, op="photo")
                if photo is None or photo.data.get("published"):
                    raise Answer(
                        self.error(400, "(#100) attached_media must reference unpublished photos", 100)
                    )
                photos.append(fbid)
            post_id = self._post_id(page_id)
            data = {"id": post_id, "message": message, "link": link, "attached_media": photos}
            new_record(self.state, self.platform, "feed", request, post_id, is_post=True, data=data)
        return Reply(200, {"id": post_id})

    def create_photo(self, request: Incoming, page_id: str) -> Reply:
        self._own_page(request, page_id)
        upload = request.file("source")
        if (upload is None or not upload.content) and not request.param("url"):
            raise Answer(self.error(400, "(#324) Requires upload file", 324))
        if upload is not None and not upload.content_type.startswith("image/"):
            raise Answer(self.error(400, "(#324) Missing or invalid image file", 324))
        published = (request.param("published") or "true").lower() != "false"
        photo_id = str(800_000_000_000_000 + self.state.next_id())
        photo: dict[str, Any] = {
            "id": photo_id,
            "caption": request.param("caption") or request.param("message") or "",
            "alt_text_custom": request.param("alt_text_custom") or "",
            "published": published,
        }
        new_record(self.state, self.platform, "photo", request, photo_id, is_post=False, data=photo)
        if not published:
            return Reply(200, {"id": photo_id})
        post_id = self._post_id(page_id)
        photo["post_id"] = post_id
        data = {"id": post_id, "message": photo["caption"], "photo_id": photo_id}
        new_record(self.state, self.platform, "photo_post", request, post_id, is_post=True, data=data)
        return Reply(200, {"id": photo_id, "post_id": post_id})

    def create_comment(self, request: Incoming, object_id: str) -> Reply:
        with self.state.lock:
            target = next(
                (
                    r
                    for r in reversed(self.state.records)
                    if r.platform == self.platform
                    and r.id == object_id
                    and r.op in ("feed", "photo_post", "comment")
                    and not r.deleted
                ),
                None,
            )
            if target is None:
                raise Answer(self._missing(object_id, "post"))
            message = request.param("message") or ""
            if not message.strip() and request.file("source") is None:
                raise Answer(self.error(400, "(#100) Missing message or attachment", 100))
            comment_id = f"{object_id.split('_')[-1]}_{700_000_000_000_000 + self.state.next_id()}"
            data = {"id": comment_id, "message": message, "parent": object_id}
            new_record(self.state, self.platform, "comment", request, comment_id, is_post=True, data=data)
        return Reply(200, {"id": comment_id})

    def debug_token(self, request: Incoming) -> Reply:
        """``GET /debug_token?input_token=...``: what the token is and until when it works."""
        token = (request.query.get("input_token") or [""])[0]
        if not token:
            raise Answer(self.error(400, "(#100) The parameter input_token is required", 100))
        page = self.state.accounts.facebook_pages.get(token)
        if page is None:
            return Reply(200, {"data": {"is_valid": False, "error": {
                "code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}}})
        expires_at = int(page.get("expires_at") or 0)
        data: dict[str, Any] = {
            "app_id": "100000000000099",
            "type": "PAGE",
            "application": "Engage Sandbox",
            "data_access_expires_at": int(time.time()) + 90 * 86400,
            "expires_at": expires_at,
            "is_valid": True,
            "issued_at": int(time.time()) - 86400,
            "profile_id": page["id"],
            "scopes": ["pages_manage_posts", "pages_read_engagement", "read_insights"],
            "user_id": "100000000000042",
        }
        if expires_at and expires_at <= time.time():
            data["is_valid"] = False
            data["error"] = {"code": 190, "subcode": 463,
                             "message": "Error validating access token: Session has expired."}
        return Reply(200, {"data": data})

    @staticmethod
    def _wanted(request: Incoming) -> dict[str, str]:
        """``fields=shares,comments.summary(true).limit(0)`` as {field: its modifiers}."""
        wanted: dict[str, str] = {}
        for part in re.findall(r"[a-z_]+(?:\.[a-z_]+\([^)]*\))*", request.param("fields") or ""):
            name, _, modifiers = part.partition(".")
            wanted[name] = modifiers
        return wanted

    def _post_record(self, object_id: str) -> Any:
        with self.state.lock:
            return next(
                (
                    r
                    for r in reversed(self.state.records)
                    if r.platform == self.platform and r.id == object_id and r.is_post and r.op != "comment"
                ),
                None,
            )

    def get_object(self, object_id: str, request: Incoming) -> Reply:
        record = self.state.find(self.platform, object_id)
        if record is None or record.deleted:
            raise Answer(self._missing(object_id, "get"))
        wanted = self._wanted(request)
        if not wanted:
            return Reply(200, record.data)
        body: dict[str, Any] = {name: record.data[name] for name in wanted if name in record.data}
        body["id"] = record.id
        if record.is_post and record.op != "comment" and {"shares", "comments", "reactions"} & set(wanted):
            figures = self.state.figures(self.platform, record)
            shares = figures["reposts"] + figures["quotes"]
            if "shares" in wanted and shares:  # Graph leaves "shares" out when nobody shared
                body["shares"] = {"count": shares}
            for edge, total in (("comments", figures["replies"]), ("reactions", figures["likes"])):
                if edge in wanted:
                    summary = "summary(true)" in wanted[edge]
                    body[edge] = {"data": [], "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}}
                    if summary:
                        body[edge]["summary"] = {"total_count": total, "can_comment": True, "order": "ranked"}
        return Reply(200, body)

    # Post metrics the sandbox serves (the views metrics that replaced impressions), and those Meta
    # deprecated on every version (15 November 2025 and June 2026 waves), answered as Graph does.
    INSIGHT_METRICS = frozenset({"post_media_view", "post_total_media_view_unique", "post_clicks"})
    DEPRECATED_METRICS = frozenset({
        "post_impressions", "post_impressions_unique", "post_impressions_paid", "post_impressions_paid_unique",
        "post_impressions_fan", "post_impressions_fan_unique", "post_impressions_organic",
        "post_impressions_organic_unique", "post_impressions_viral", "post_impressions_viral_unique",
        "post_impressions_nonviral", "post_impressions_nonviral_unique", "post_engaged_users",
    })
    # pagepostinsights_period_enum_param and pagepostinsights_date_preset_enum_param (enum_types.json).
    PERIODS = ("day", "days_28", "lifetime", "month", "total_over_range", "week")
    DATE_PRESETS = ("data_maximum", "last_14d", "last_28d", "last_30d", "last_3d", "last_7d", "last_90d",
                    "last_month", "last_quarter", "last_week_mon_sun", "last_week_sun_sat", "last_year",
                    "maximum", "this_month", "this_quarter", "this_week_mon_today", "this_week_sun_today",
                    "this_year", "today", "yesterday")

    def insights(self, request: Incoming, object_id: str) -> Reply:
        """``GET /{post-id}/insights?metric=post_media_view``: lifetime figures of a Page post."""
        record = self._post_record(object_id)
        if record is None or record.deleted:
            raise Answer(self._missing(object_id, "get"))
        metrics = [m for m in (request.param("metric") or "").split(",") if m]
        if not metrics:
            raise Answer(self.error(400, "No metric was specified to be fetched. Please specify one or more "
                                         "metrics to be fetched and try again.", 3001, subcode=1504028))
        for metric in metrics:
            if metric not in self.INSIGHT_METRICS:  # deprecated or never known: the same answer
                raise Answer(self.error(400, "(#100) The value must be a valid insights metric", 100))
        for name, allowed in (("period", self.PERIODS), ("date_preset", self.DATE_PRESETS)):
            value = request.param(name)
            if value is not None and value not in allowed:
                raise Answer(self.error(400, f"(#100) param {name} must be one of {{{', '.join(allowed)}}} - "
                                             f"got \"{value}\"", 100))
        figures = self.state.figures(self.platform, record)
        values = {
            "post_media_view": figures["views"],
            "post_total_media_view_unique": figures["views"] * 7 // 10,
            "post_clicks": figures["views"] // 25,
        }
        data = [
            {
                "name": metric,
                "period": "lifetime",
                "values": [{"value": values[metric]}],
                "title": metric.replace("_", " ").capitalize(),
                "id": f"{object_id}/insights/{metric}/lifetime",
            }
            for metric in metrics
        ]
        return Reply(200, {"data": data, "paging": {"previous": "", "next": ""}})

    def delete_object(self, object_id: str) -> Reply:
        with self.state.lock:
            record = self.state.find(self.platform, object_id)
            if record is None or record.deleted:
                raise Answer(self._missing(object_id, "delete"))
            record.deleted = True
        return Reply(200, {"success": True})

