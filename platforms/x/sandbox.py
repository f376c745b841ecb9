"""X API v2: posts (and their lookup with ``public_metrics``), the account's posts
(``GET /2/users/{id}/tweets``, getUsersPosts), media upload and metadata, users/me, OAuth 2.0
token refresh.

As strict as X's production specification, ``xdevplatform/xdk`` ``specs/openapi.json`` (X API
v2 version 2.167, commit 84c2654; tests/contracts/x_openapi.json keeps the operations used):

* a query parameter an operation does not declare is a 400 ``invalid-request`` naming it (so
  the older ``tweet.fields`` is refused: the spec's field list is ``post.fields``);
* ``POST /2/tweets`` and ``POST /2/media/upload`` bodies are ``additionalProperties: false``:
  any other field is a 400 (``media_type`` is not an upload field); ``media_category`` is the
  spec's enumeration; the post's ``text`` is counted the twitter-text way (weighted, 280);
* the writing operations and ``GET /2/users/me`` accept only user-context tokens
  (``OAuth2UserToken``, ``UserToken``): an app-only bearer token (accounts: ``"app_only": true``)
  reads posts and gets X's 403 "Unsupported Authentication" anywhere else.

Problem types use the spec's ``https://api.x.com/2/problems/`` prefix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
import uuid
from datetime import datetime
from typing import Any

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
from platforms.x.counting import x_weighted_length


class XApi:
    platform = "x"
    TEXT_LIMIT = 280
    PROBLEM = "https://api.x.com/2/problems/"
    # Query parameters each operation declares (specs/openapi.json); X refuses any other.
    _FIELDS = ("post.fields", "expansions", "user.fields", "media.fields", "poll.fields", "place.fields")
    QUERY: dict[str, frozenset[str]] = {
        "lookup_tweets": frozenset({"ids", *_FIELDS}),
        "get_tweet": frozenset(_FIELDS),
        "users_me": frozenset({"user.fields", "expansions", "post.fields"}),
        "user_posts": frozenset({"max_results", "pagination_token", "start_time", "end_time", "since_id", "until_id",
                                 "exclude", *_FIELDS}),
    }
    # Operations whose security lists BearerToken: the only ones an app-only token may call.
    APP_ONLY_OPS = frozenset({"lookup_tweets", "get_tweet", "user_posts"})
    LIST_MAX_RESULTS = (5, 100)  # getUsersPosts max_results: minimum, maximum
    # CreatePostsRequest, CreatePostsMedia, CreatePostsReply, MediaUploadRequest (all
    # additionalProperties: false) and MediaUploadRequest.media_category.
    POST_FIELDS = frozenset({
        "card_uri", "community_id", "direct_message_deep_link", "edit_options", "for_super_followers_only",
        "geo", "made_with_ai", "media", "nullcast", "paid_partnership", "poll", "quote_tweet_id", "reply",
        "reply_settings", "share_with_followers", "text",
    })
    POST_MEDIA_FIELDS = frozenset({
        "call_to_actions", "description", "embeddable", "media_ids", "preview_media_id", "tagged_user_ids",
        "title",
    })
    POST_REPLY_FIELDS = frozenset({"auto_populate_reply_metadata", "exclude_reply_user_ids", "in_reply_to_tweet_id"})
    UPLOAD_FIELDS = frozenset({"additional_owners", "media", "media_category"})
    MEDIA_CATEGORIES = frozenset({
        "tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles",
    })

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        found = self._route(request)
        if found is None or found.op in ("unknown", "oauth2_token"):
            return found
        allowed, handler = self.QUERY.get(found.op, frozenset()), found.handler

        def strict(r: Incoming) -> Reply:
            for name in r.query:
                if name not in allowed:
                    raise self.invalid(
                        f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]", name
                    )
            return handler(r)

        return Route(found.platform, found.op, strict, creates_post=found.creates_post)

    def _route(self, request: Incoming) -> Route | None:
        path, method = request.path, request.method
        if not path.startswith("/2/"):
            return None
        if method == "POST" and path == "/2/tweets":
            return Route(self.platform, "tweet", self.create_tweet, creates_post=True)
        if method == "GET" and path == "/2/tweets":
            return Route(self.platform, "lookup_tweets", self.lookup_tweets)
        if match := re.fullmatch(r"/2/tweets/(\d+)", path):
            if method == "GET":
                return Route(self.platform, "get_tweet", lambda r: self.get_tweet(match.group(1), r))
            if method == "DELETE":
                return Route(self.platform, "delete_tweet", lambda r: self.delete_tweet(match.group(1)))
        if method == "GET" and (user := re.fullmatch(r"/2/users/([^/]+)/tweets", path)):
            return Route(self.platform, "user_posts", lambda r: self.user_posts(user.group(1), r))
        if method == "GET" and path == "/2/users/me":
            return Route(self.platform, "users_me", lambda r: Reply(200, {"data": self.user()}))
        if method == "POST" and path == "/2/media/upload":
            return Route(self.platform, "media_upload", self.upload_media)
        if method == "POST" and path == "/2/media/metadata":
            return Route(self.platform, "media_metadata", self.media_metadata)
        if method == "POST" and path == "/2/oauth2/token":
            return Route(self.platform, "oauth2_token", self.token)
        return Route(
            self.platform,
            "unknown",
            lambda r: self.problem(404, "Not Found Error", "Not Found", kind="resource-not-found"),
        )

    def problem(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str = "",
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> Reply:
        body: dict[str, Any] = {
            "title": title,
            "detail": detail,
            "type": f"{self.PROBLEM}{kind}" if kind else "about:blank",
            "status": status,
        }
        if errors:
            body["errors"] = errors
        return Reply(status, body, headers or {})

    def invalid(self, message: str, parameter: str) -> Answer:
        return Answer(
            self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                kind="invalid-request",
                errors=[{"parameters": {parameter: []}, "message": message}],
            )
        )

    def authorize(self, request: Incoming) -> None:
        if request.path == "/2/oauth2/token":
            return  # authenticated by the refresh token itself
        token = bearer(request)
        with self.state.lock:
            user = token in self.state.accounts.x_tokens
            app_only = token in self.state.accounts.x_app_tokens
        if not (user or app_only) or self.state.behaviour(self.platform).auth_expired:
            raise Answer(self.problem(401, "Unauthorized", "Unauthorized"), "auth_refused")
        route = self._route(request)
        if app_only and (route is None or route.op not in self.APP_ONLY_OPS):
            raise Answer(
                self.problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
                    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    kind="unsupported-authentication",
                ),
                "auth_refused",
            )

    def _unknown_fields(self, given: object, allowed: frozenset[str], where: str) -> None:
        if not isinstance(given, dict):
            return
        for name in sorted(set(given) - allowed):
            raise self.invalid(
                f"{where}.{name}: is not defined in the schema and the schema does not allow additional "
                "properties",
                f"{where.removeprefix('$')}.{name}".lstrip("."),
            )

    def server_error(self) -> Reply:
        return self.problem(500, "Internal Server Error", "Internal Server Error")

    def rate_limited(self, retry_after: int) -> Reply:
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time()) + retry_after),
        }
        return self.problem(429, "Too Many Requests", "Too Many Requests", headers=headers)

    @staticmethod
    def user() -> dict[str, str]:
        return {"id": "1500000000000000001", "name": "Engage Sandbox", "username": "engage_sandbox"}

    def create_tweet(self, request: Incoming) -> Reply:
        if request.content_type != "application/json" or not isinstance(request.json, dict):
            raise self.invalid("The request body must be a JSON object", "body")
        body = request.json
        self._unknown_fields(body, self.POST_FIELDS, "$")
        self._unknown_fields(body.get("media"), self.POST_MEDIA_FIELDS, "$.media")
        self._unknown_fields(body.get("reply"), self.POST_REPLY_FIELDS, "$.reply")
        text = body.get("text")
        media_ids = ((body.get("media") or {}).get("media_ids")) or []
        if not isinstance(text, str) and not media_ids:
            raise self.invalid("$.text: is missing but it is required", "text")
        text = text or ""
        if x_weighted_length(text) > self.TEXT_LIMIT:
            raise Answer(self.problem(403, "Forbidden", "Your Tweet text is too long."))
        if len(media_ids) > 4:
            raise self.invalid("$.media.media_ids: there must be at most 4 media", "media.media_ids")
        with self.state.lock:
            for media_id in media_ids:
                if self.state.find(self.platform, str(media_id), op="media") is None:
                    raise self.invalid(f"Your media IDs are invalid: {media_id}", "media.media_ids")
            reply_to = str(((body.get("reply") or {}).get("in_reply_to_tweet_id")) or "")
            if reply_to:
                target = self.state.find(self.platform, reply_to, op="tweet")
                if target is None or target.deleted:
                    raise Answer(
                        self.problem(
                            403,
                            "Forbidden",
                            "You attempted to reply to a Tweet that is deleted or not visible to you.",
                        )
                    )
            if text and any(post.data.get("text") == text for post in self.state.posts(self.platform)):
                raise Answer(
                    self.problem(
                        403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
                    )
                )
            tweet_id = str(1_880_000_000_000_000_000 + self.state.next_id())
            data = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
            new_record(self.state, self.platform, "tweet", request, tweet_id, is_post=True, data=data)
        return Reply(201, {"data": data})

    # PostFieldsParameter's enumeration (specs/openapi.json).
    POST_FIELD_NAMES = frozenset({
        "article", "article_title", "attachments", "card_uri", "community_id", "context_annotations",
        "conversation_id", "created_at", "display_text_range", "edit_controls", "entities", "geo", "id", "lang",
        "matched_media_notes", "media_metadata", "non_public_metrics", "note_post", "note_request_suggestions",
        "organic_metrics", "paid_partnership", "possibly_sensitive", "promoted_metrics", "public_metrics",
        "reply_settings", "scopes", "source", "suggested_source_links", "suggested_source_links_with_counts",
        "text", "withheld",
    })

    def _tweet_fields(self, request: Incoming) -> set[str]:
        wanted = {name for name in (request.param("post.fields") or "").split(",") if name}
        for name in sorted(wanted):
            if name not in self.POST_FIELD_NAMES:
                raise self.invalid(
                    f"The `post.fields` query parameter value [{name}] is not one of "
                    f"[{','.join(sorted(self.POST_FIELD_NAMES))}]",
                    "post.fields",
                )
        return wanted

    def _tweet(self, record: Any, fields: set[str]) -> dict[str, Any]:
        data = dict(record.data)
        if "public_metrics" in fields:
            figures = self.state.figures(self.platform, record)
            data["public_metrics"] = {
                "retweet_count": figures["reposts"],
                "reply_count": figures["replies"],
                "like_count": figures["likes"],
                "quote_count": figures["quotes"],
                "bookmark_count": figures["likes"] // 10,
                "impression_count": figures["views"],
            }
        return data

    def _not_found(self, tweet_id: str, *, parameter: str) -> dict[str, Any]:
        return {
            "value": tweet_id,
            "detail": f"Could not find tweet with {parameter}: [{tweet_id}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": parameter,
            "resource_id": tweet_id,
            "type": f"{self.PROBLEM}resource-not-found",
        }

    def get_tweet(self, tweet_id: str, request: Incoming) -> Reply:
        fields = self._tweet_fields(request)
        record = self.state.find(self.platform, tweet_id, op="tweet")
        if record is None or record.deleted:
            return Reply(200, {"errors": [self._not_found(tweet_id, parameter="id")]})
        return Reply(200, {"data": self._tweet(record, fields)})

    def lookup_tweets(self, request: Incoming) -> Reply:
        """``GET /2/tweets?ids=1,2,...``: 1 to 100 ids; missing ones come back under ``errors``."""
        raw = request.param("ids")
        if not raw:
            raise self.invalid("The `ids` query parameter can not be empty", "ids")
        ids = raw.split(",")
        if not 1 <= len(ids) <= 100:
            raise self.invalid(
                f"The number of values in the `ids` query parameter list [{len(ids)}] is not between 1 and 100",
                "ids",
            )
        for tweet_id in ids:
            if not re.fullmatch(r"\d{1,19}", tweet_id):
                raise self.invalid(f"The `ids` query parameter value [{tweet_id}] is not valid", "ids")
        fields = self._tweet_fields(request)
        data, errors = [], []
        for tweet_id in ids:
            record = self.state.find(self.platform, tweet_id, op="tweet")
            if record is None or record.deleted:
                errors.append(self._not_found(tweet_id, parameter="ids"))
            else:
                data.append(self._tweet(record, fields))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def user_posts(self, user_id: str, request: Incoming) -> Reply:
        """``GET /2/users/{id}/tweets`` (getUsersPosts): the account's posts, newest first, with
        ``max_results`` 5 to 100 (default 10), ``start_time`` (inclusive) and ``end_time``
        (exclusive) as RFC 3339 times, ``since_id``/``until_id``, ``pagination_token`` (base32hex)
        and ``meta.next_token`` while more remain. Links are shown as ``t.co`` addresses and ``&``,
        ``<``, ``>`` are escaped in ``text``, as X serves them."""
        fields = self._tweet_fields(request)
        if user_id != self.user()["id"]:
            if not re.fullmatch(r"\d{1,19}", user_id):
                raise self.invalid(f"The `id` query parameter value [{user_id}] does not match ^[0-9]{{1,19}}$", "id")
            return Reply(200, {"errors": [{**self._not_found(user_id, parameter="id"), "resource_type": "user",
                                           "detail": f"Could not find user with id: [{user_id}]."}]})
        raw_max = request.param("max_results") or "10"
        low, high = self.LIST_MAX_RESULTS
        if not raw_max.isdigit() or not low <= int(raw_max) <= high:
            raise self.invalid(f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100",
                               "max_results")
        bounds = {}
        for name in ("start_time", "end_time"):
            value = request.param(name)
            if value is not None:
                moment = _rfc3339(value)
                if moment is None:
                    raise self.invalid(f"Invalid {name}. It must be an RFC 3339 date-time.", name)
                bounds[name] = moment
        if "start_time" in bounds and "end_time" in bounds and bounds["start_time"] >= bounds["end_time"]:
            raise self.invalid("The `start_time` query parameter value must be before the `end_time` "
                               "query parameter value", "start_time")
        posts = sorted(self.state.posts(self.platform), key=lambda r: (r.created_at, int(r.id)), reverse=True)
        posts = [r for r in posts if r.op == "tweet"
                 and bounds.get("start_time", float("-inf")) <= r.created_at < bounds.get("end_time", float("inf"))]
        for name, keep in (("since_id", lambda r, v: int(r.id) > v), ("until_id", lambda r, v: int(r.id) < v)):
            value = request.param(name)
            if value is not None:
                if not re.fullmatch(r"\d{1,19}", value):
                    raise self.invalid(f"The `{name}` query parameter value [{value}] is not valid", name)
                posts = [r for r in posts if keep(r, int(value))]
        start = 0
        token = request.param("pagination_token")
        if token is not None:
            try:
                start = int(base64.b32hexdecode(token.upper() + "=" * (-len(token) % 8)).decode())
            except (ValueError, binascii.Error):
                raise self.invalid(f"The `pagination_token` query parameter value [{token}] is not valid",
                                   "pagination_token") from None
        page = posts[start : start + int(raw_max)]
        data = []
        for record in page:
            post = self._tweet(record, fields)
            post["text"] = _as_x_shows(str(post.get("text") or ""))
            if "created_at" in fields:
                post["created_at"] = iso_time(record.created_at)
            data.append(post)
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        if start + len(page) < len(posts):
            meta["next_token"] = base64.b32hexencode(str(start + len(page)).encode()).decode().rstrip("=").lower()
        if start:
            meta["previous_token"] = base64.b32hexencode(str(max(0, start - int(raw_max))).encode()).decode().rstrip(
                "=").lower()
        body: dict[str, Any] = {"meta": meta}
        if data:
            body["data"] = data
        return Reply(200, body)

    def delete_tweet(self, tweet_id: str) -> Reply:
        with self.state.lock:
            record = self.state.find(self.platform, tweet_id, op="tweet")
            if record is None or record.deleted:
                raise Answer(
                    self.problem(
                        404,
                        "Not Found Error",
                        f"Could not find tweet with id: [{tweet_id}].",
                        kind="resource-not-found",
                    )
                )
            record.deleted = True
        return Reply(200, {"data": {"deleted": True}})

    def upload_media(self, request: Incoming) -> Reply:
        if request.content_type != "multipart/form-data":
            raise self.invalid("The request must be multipart/form-data", "media")
        self._unknown_fields({**request.form, **{f.name: f for f in request.files}}, self.UPLOAD_FIELDS, "$")
        upload = request.file("media")
        if upload is None or not upload.content:
            raise self.invalid("$.media: is missing but it is required", "media")
        category = (request.form.get("media_category") or [None])[0]
        if category not in self.MEDIA_CATEGORIES:
            raise self.invalid("$.media_category: does not have a value in the enumeration", "media_category")
        if len(upload.content) > 5 * 1024 * 1024:
            raise self.invalid("File size exceeds 5242880 bytes.", "media")
        media_id = str(1_890_000_000_000_000_000 + self.state.next_id())
        data = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(upload.content),
            "expires_after_secs": 86400,
            "image": {"image_type": upload.content_type},
        }
        new_record(self.state, self.platform, "media", request, media_id, is_post=False, data=data)
        return Reply(200, {"data": data})

    def media_metadata(self, request: Incoming) -> Reply:
        if request.content_type != "application/json" or not isinstance(request.json, dict):
            raise self.invalid("The request body must be a JSON object", "body")
        media_id = str(request.json.get("id") or "")
        alt = ((request.json.get("metadata") or {}).get("alt_text") or {}).get("text")
        with self.state.lock:
            record = self.state.find(self.platform, media_id, op="media")
            if record is None:
                raise self.invalid(f"Media id {media_id} was not found", "id")
            if not isinstance(alt, str) or len(alt) > 1000:
                raise self.invalid(
                    "$.metadata.alt_text.text: must be a string of at most 1000 characters",
                    "metadata.alt_text.text",
                )
            record.data["alt_text"] = alt
        return Reply(200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}})

    def token(self, request: Incoming) -> Reply:
        if request.param("grant_type") != "refresh_token":
            return Reply(
                400,
                {"error": "invalid_request", "error_description": "Missing required parameter [grant_type]."},
            )
        with self.state.lock:
            old = request.param("refresh_token") or ""
            if old not in self.state.accounts.x_refresh_tokens:
                return Reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                )
            access = f"sandbox-x-access-{uuid.uuid4().hex}"
            refresh = f"sandbox-x-refresh-{uuid.uuid4().hex}"
            self.state.accounts.x_refresh_tokens.discard(old)  # X rotates refresh tokens
            self.state.accounts.x_refresh_tokens.add(refresh)
            self.state.accounts.x_tokens.add(access)
        return Reply(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "tweet.read tweet.write users.read media.write offline.access",
                "refresh_token": refresh,
            },
        )


_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def _as_x_shows(text: str) -> str:
    """A post's ``text`` as X serves it: every link wrapped in a ``t.co`` address (X's link
    shortening, "all links are wrapped"), and ``&``, ``<``, ``>`` escaped as HTML entities."""
    wrapped = _URL.sub(lambda m: "https://t.co/" + hashlib.sha256(m.group(0).encode()).hexdigest()[:10], text)
    return wrapped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rfc3339(value: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 date-time (``YYYY-MM-DDTHH:mm:ss[.sss]Z`` or with an
    offset), or None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
