"""X (Twitter): posts through the X API v2 with a user-context access token (OAuth 2.0).

Checked against X's own OpenAPI file, ``xdevplatform/xdk`` ``specs/openapi.json`` (X API v2
version 2.167; see docs/platforms.md and tests/contracts/):

* images (up to 4): ``POST /2/media/upload``, multipart ``media`` + ``media_category=
  tweet_image`` (nothing else: the request schema is ``additionalProperties: false`` and has no
  ``media_type``; X reads the type from the file), answers ``{"data": {"id": ...}}``; alt text is
  then set with ``POST /2/media/metadata`` (``{"id", "metadata": {"alt_text": {"text"}}}``, at
  most 1000 characters);
* post: ``POST /2/tweets`` (JSON ``text``, ``media.media_ids``,
  ``reply.in_reply_to_tweet_id``), 201 with ``{"data": {"id", "text"}}``;
* withdraw: ``DELETE /2/tweets/:id``; check: ``GET /2/users/me``;
* stats: ``GET /2/tweets?ids=...&post.fields=public_metrics`` (up to 100 ids a request; the
  production spec names the field list ``post.fields``, the older ``tweet.fields`` is an
  unknown parameter there and X answers those with a 400): ``impression_count`` (views),
  ``retweet_count`` + ``quote_count`` (shares), ``reply_count``, ``like_count``. Deleted posts
  come back under ``errors`` and are left out;
* look-up (an unconfirmed post): ``GET /2/users/{id}/tweets`` (getUsersPosts) with
  ``start_time``/``end_time`` around the window, ``post.fields=created_at,text``, paged with
  ``pagination_token``; the text is compared with what ``publish`` sends (``platforms.lookup``).

X has no idempotency key, so a timeout after sending is an UnconfirmedError. X refuses a
post whose text duplicates a recent one with 403; after an unconfirmed attempt that 403
is a strong hint that the first attempt went through, and the detail says so.
429 answers carry ``x-rate-limit-reset`` (unix seconds).

Publishing needs a user-context token: every operation that writes (``POST /2/tweets``,
``DELETE /2/tweets/:id``, the media operations) and ``GET /2/users/me`` accept only
``OAuth2UserToken`` or ``UserToken`` (OAuth 1.0a) in the spec; an app-only bearer token (OAuth
2.0 client credentials) can only read, and X answers it with a 403 "Unsupported
Authentication". Such a token is refused when the channel is saved
(:func:`looks_app_only`), and the adapter refuses it before sending anything.

OAuth 2.0 user tokens expire (two hours unless refreshed). :func:`refresh_access_token`
exchanges a refresh token for a new pair; storing the new pair is the caller's job, since
adapters do not write to the database. ``check()`` reports the access token's expiry when the
channel's config records it (``expires_at``: unix seconds or ISO 8601, written with the token
pair).

Config: ``api_base`` (default ``https://api.x.com``), ``username`` (for post links).
Secrets: ``access_token``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from platforms.base import (
    AdapterError,
    AuthExpiredError,
    HealthResult,
    LookupQuery,
    LookupResult,
    MediaItem,
    Payload,
    PermanentError,
    PostStats,
    PublishResult,
)
from platforms.common import AdapterBase, figure, parse_expiry
from platforms.hashtags import with_hashtags
from platforms.http import Redactor, error_for_status, json_or_empty, send, short
from platforms.lookup import (
    MAX_PAGES,
    Match,
    Window,
    could_not_list,
    decide,
    nothing_to_compare,
    parse_time,
    same_text,
)

DEFAULT_API_BASE = "https://api.x.com"
MAX_MEDIA = 4
ALT_TEXT_LIMIT = 1000
STATS_BATCH = 100  # GET /2/tweets takes at most 100 ids
STATS_FIELDS_PARAMETER = "post.fields"  # specs/openapi.json, PostFieldsParameter
LOOKUP_PAGE_SIZE = 100  # getUsersPosts max_results: 5 to 100
END_TIME_MARGIN = timedelta(seconds=30)  # an end_time this close to now is left out
# X's app-only bearer tokens (OAuth 2.0 client credentials) start with a run of "A"s (leading zero
# bytes, base64-encoded); user-context tokens are random and never do.
APP_ONLY_PREFIX = "A" * 20
APP_ONLY_REFUSAL = (
    "this is an app-only bearer token, and X lets an app-only token only read: posting, deleting "
    "and uploading media need a user-context token (OAuth 2.0 authorization code with PKCE, scopes "
    "tweet.read tweet.write users.read media.write offline.access)"
)


def looks_app_only(token: str) -> bool:
    """True for a token shaped like X's app-only bearer tokens (``AAAAAAAAAAAAAAAAAAAAA...``)."""
    return str(token).strip().startswith(APP_ONLY_PREFIX)


class XAdapter(AdapterBase):
    kind = "x"
    supports_withdraw = True
    honours_idempotency_key = False
    can_lookup = True
    supports_stats = True
    stats_figures = frozenset({"views", "shares", "replies", "likes"})
    stats_batch_size = STATS_BATCH
    required_secrets = ("access_token",)
    _user_id: str = ""

    @property
    def _base(self) -> str:
        return str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['access_token']}"}

    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        if looks_app_only(self.secrets["access_token"]):
            raise PermanentError(f"x: {APP_ONLY_REFUSAL}")
        if len(payload.media) > MAX_MEDIA:
            raise PermanentError(f"x: at most {MAX_MEDIA} images per post, got {len(payload.media)}")
        media_ids = [self._upload(item) for item in payload.media]
        body: dict[str, Any] = {"text": composed_text(payload)}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if payload.in_reply_to:
            body["reply"] = {"in_reply_to_tweet_id": payload.in_reply_to}
        response = self._send("POST", "/2/tweets", what="x post", retry_safe=False, json=body)
        data = (json_or_empty(response) or {}).get("data") or {}
        if not data.get("id"):
            raise PermanentError("x post: the answer had no post id")
        post_id = str(data["id"])
        return PublishResult(
            external_id=post_id, external_url=self._post_url(post_id), http_status=response.status_code
        )

    def _upload(self, item: MediaItem) -> str:
        # Uploaded but unused media expires by itself: media requests are retry safe.
        response = self._send(
            "POST",
            "/2/media/upload",
            what="x media upload",
            retry_safe=True,
            data={"media_category": "tweet_image"},
            files={"media": (item.filename, item.content, item.mime)},
        )
        data = (json_or_empty(response) or {}).get("data") or {}
        if not data.get("id"):
            raise PermanentError("x media upload: the answer had no media id")
        media_id = str(data["id"])
        if item.alt_text:
            self._send(
                "POST",
                "/2/media/metadata",
                what="x media alt text",
                retry_safe=True,
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text[:ALT_TEXT_LIMIT]}}},
            )
        return media_id

    def _post_url(self, post_id: str) -> str:
        username = str(self.config.get("username") or "").lstrip("@")
        if username:
            return f"https://x.com/{username}/status/{post_id}"
        return f"https://x.com/i/web/status/{post_id}"

    def withdraw(self, external_id: str) -> None:
        try:
            self._send("DELETE", f"/2/tweets/{external_id}", what="x delete", retry_safe=True)
        except PermanentError as exc:
            if exc.http_status == 404:
                return  # already gone
            raise

    def check(self) -> HealthResult:
        if looks_app_only(self.secrets["access_token"]):
            return HealthResult(state="failing", detail=f"x: {APP_ONLY_REFUSAL}")
        try:
            self._send("GET", "/2/users/me", what="x check", retry_safe=True)
        except AuthExpiredError as exc:
            return HealthResult(state="auth_expired", detail=exc.detail)
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        return HealthResult(
            state="ok",
            detail="X accepted the access token",
            expires_at=parse_expiry(self.config.get("expires_at")),
        )

    # --- look-up -------------------------------------------------------------------------------
    def lookup(self, query: LookupQuery) -> LookupResult:
        """Did the post in ``query`` go out? The account's posts in the window
        (``GET /2/users/{id}/tweets`` with ``start_time``/``end_time``), compared with the text
        ``publish`` sends (:func:`platforms.lookup.same_text`: X shows links as ``t.co``)."""
        window = Window.of(query)
        sent = composed_text(query.payload)
        if (wordless := nothing_to_compare("X", sent)) is not None:
            return wordless
        matches: list[Match] = []
        listed, pages, token = 0, 0, ""
        max_pages = int(self.config.get("lookup_max_pages") or MAX_PAGES)
        try:
            user_id = self._account_id()
            while True:
                params = {
                    "start_time": _x_time(window.start),
                    "max_results": str(int(self.config.get("lookup_page_size") or LOOKUP_PAGE_SIZE)),
                    STATS_FIELDS_PARAMETER: "created_at,text",
                }
                if window.end < datetime.now(UTC) - END_TIME_MARGIN:
                    # A window that has not ended yet is left open: the newest posts are listed too,
                    # and the window's end is checked on each post's created_at.
                    params["end_time"] = _x_time(window.end)
                if token:
                    params["pagination_token"] = token
                response = self._send("GET", f"/2/users/{user_id}/tweets", what="x look-up", retry_safe=True,
                                      params=params)
                pages += 1
                body = json_or_empty(response) or {}
                for post in body.get("data") or []:
                    if not isinstance(post, dict) or not post.get("id"):
                        continue
                    listed += 1
                    if window.holds(parse_time(post.get("created_at"))) and same_text(sent, html.unescape(str(post.get("text", "")))):
                        matches.append(Match(str(post["id"]), self._post_url(str(post["id"]))))
                token = str((body.get("meta") or {}).get("next_token") or "")
                if not token or pages >= max_pages:
                    break
        except AdapterError as exc:
            return could_not_list("X", "the account's posts", exc.http_status)
        return decide("X", "the account's posts", matches, complete=not token, listed=listed)

    def _account_id(self) -> str:
        """The account's user id: config ``user_id``, else ``GET /2/users/me`` (asked once)."""
        if not self._user_id:
            self._user_id = str(self.config.get("user_id") or "")
        if not self._user_id:
            response = self._send("GET", "/2/users/me", what="x look-up", retry_safe=True)
            user_id = str(((json_or_empty(response) or {}).get("data") or {}).get("id") or "")
            if not user_id.isdigit():
                raise PermanentError("x look-up: users/me gave no user id")
            self._user_id = user_id
        return self._user_id

    def stats(self, external_id: str) -> PostStats | None:
        return self.stats_many([external_id]).get(external_id)

    def stats_many(self, external_ids: Iterable[str]) -> dict[str, PostStats]:
        ids = [str(i) for i in external_ids if str(i).isdigit()]
        found: dict[str, PostStats] = {}
        for start in range(0, len(ids), STATS_BATCH):
            batch = ids[start : start + STATS_BATCH]
            response = self._send(
                "GET",
                "/2/tweets",
                what="x stats",
                retry_safe=True,
                params={"ids": ",".join(batch), STATS_FIELDS_PARAMETER: "public_metrics"},
            )
            for post in (json_or_empty(response) or {}).get("data") or []:
                if not isinstance(post, dict) or str(post.get("id")) not in batch:
                    continue
                metrics = post.get("public_metrics") or {}
                retweets, quotes = figure(metrics.get("retweet_count")), figure(metrics.get("quote_count"))
                found[str(post["id"])] = PostStats(
                    views=figure(metrics.get("impression_count")),
                    shares=None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0),
                    replies=figure(metrics.get("reply_count")),
                    likes=figure(metrics.get("like_count")),
                )
        return found

    def _send(self, method: str, path: str, *, what: str, retry_safe: bool, **kwargs: Any) -> httpx.Response:
        response = send(
            self.http,
            method,
            f"{self._base}{path}",
            what=what,
            retry_safe=retry_safe,
            redact=self.redact,
            headers=self._auth,
            **kwargs,
        )
        if 200 <= response.status_code < 300:
            return response
        raise _error(response, what=what, redact=self.redact, retry_safe=retry_safe)


def _error(response: httpx.Response, *, what: str, redact: Redactor, retry_safe: bool) -> AdapterError:
    body = json_or_empty(response)
    body = body if isinstance(body, dict) else {}
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
        detail = f"{detail}: {errors[0]['message']}"
    explain = ""
    if response.status_code == 403 and str(body.get("type", "")).endswith("/unsupported-authentication"):
        explain = f"X refused the token: {APP_ONLY_REFUSAL}"
    if response.status_code == 403 and "duplicate" in detail.lower():
        explain = ("X refused a duplicate post (if an earlier attempt was unconfirmed, it was probably "
                   "published)")
    retry_after = None
    reset = response.headers.get("x-rate-limit-reset")
    if response.status_code == 429 and reset and reset.isdigit():
        retry_after = max(0.0, int(reset) - time.time())
    return error_for_status(
        response,
        what=what,
        detail=short(detail),
        redact=redact,
        retry_safe=retry_safe,
        retry_after=retry_after,
        explain=explain,
    )


def composed_text(payload: Payload) -> str:
    """The post's ``text`` exactly as ``publish`` sends it (and ``lookup`` compares)."""
    return with_hashtags(payload.text, payload.hashtags)


def _x_time(moment: datetime) -> str:
    """RFC 3339 to the second, as the spec's ``start_time``/``end_time`` examples are."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime | None


def refresh_access_token(
    *,
    client_id: str,
    refresh_token: str,
    client_secret: str = "",
    api_base: str = DEFAULT_API_BASE,
    http: httpx.Client,
) -> TokenPair:
    """Exchange a refresh token (scope ``offline.access``) at ``POST /2/oauth2/token``.

    Confidential clients authenticate with HTTP basic auth (client id and secret); public
    clients send ``client_id`` in the form. X rotates the refresh token: store both.
    """
    redact = Redactor([refresh_token, client_secret])
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    auth = None
    if client_secret:
        auth = httpx.BasicAuth(client_id, client_secret)
    else:
        form["client_id"] = client_id
    response = send(
        http,
        "POST",
        f"{api_base.rstrip('/')}/2/oauth2/token",
        what="x token refresh",
        retry_safe=False,
        redact=redact,
        data=form,
        auth=auth,
    )
    body = json_or_empty(response)
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        error = error_for_status(
            response,
            what="x token refresh",
            detail=short(str((body or {}).get("error_description") or (body or {}).get("error") or "")),
            redact=redact,
            retry_safe=False,
        )
        if response.status_code in (400, 401) and isinstance(error, PermanentError):
            raise AuthExpiredError(error.detail, http_status=response.status_code)
        raise error
    expires_in = body.get("expires_in")
    expires_at = datetime.now(UTC) + timedelta(seconds=int(expires_in)) if expires_in else None
    return TokenPair(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or refresh_token),
        expires_at=expires_at,
    )
