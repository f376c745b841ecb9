"""Facebook Page posts through the Graph API, with a Page access token.

* text (and link): ``POST /{page-id}/feed`` (``message``, ``link``);
* one image: ``POST /{page-id}/photos`` (multipart ``source``, ``caption``,
  ``alt_text_custom``), answering ``{"id": photo id, "post_id": ...}``;
* several images: each is uploaded with ``published=false`` (retry safe: an unpublished
  photo is invisible), then ``POST /{page-id}/feed`` with ``message`` and
  ``attached_media[i]={"media_fbid": ...}``; a ``link`` cannot be combined with attached
  photos and is left out then;
* reply to a citizen's comment or post: ``POST /{object-id}/comments`` (``message``; text
  only);
* withdraw: ``DELETE /{post-id}``;
* check: ``GET /me?fields=id,name``, then ``GET /debug_token?input_token=<page token>`` for
  ``data.is_valid`` and ``data.expires_at`` (unix seconds; 0 means it never expires, as for a
  Page token made from a long-lived user token). ``debug_token`` is the one call whose token
  travels in the query string (the API takes it nowhere else); the caller's own token (the
  ``app_access_token`` secret if set, else the Page token) still goes in the header, and
  ``input_token`` is redacted from httpx's log lines and from every error detail;
* stats: ``GET /{post-id}?fields=shares,comments.summary(true).limit(0),
  reactions.summary(true).limit(0)`` (Graph leaves ``shares`` out when there are none), and
  views from ``GET /{post-id}/insights?metric=post_media_view&period=lifetime`` (config
  ``views_metric``; empty to skip). ``post_media_view`` is the views metric that replaced
  ``post_impressions``, which Meta deprecated on every API version from 15 November 2025 ("Page
  Insights API Updates", developers.facebook.com blog, 15 August 2025; the deprecated-metrics page
  lists the June 2026 wave, ``post_impressions_unique`` -> ``post_total_media_view_unique``).
  Insights need the ``read_insights`` permission: without it, or when Graph refuses the metric,
  views are None and the rest still counts; :meth:`FacebookAdapter.stats_problems` says why, for
  the channel's health.
* look-up (an unconfirmed post): ``GET /{page-id}/published_posts?fields=id,message,created_time``
  with ``since``/``until`` around the window, paged with the ``after`` cursor; a photo post is listed
  with its caption as ``message`` (``platforms.lookup``); a comment reply: the Page's comments among
  ``GET /{object-id}/comments?filter=toplevel&order=reverse_chronological&since=...``;
* the API version: config ``api_version``, else ``ENGAGE_FACEBOOK_GRAPH_VERSION``; ``check()``
  warns before its end of life (``platforms.facebook.graph_versions``).

The token is sent in the ``Authorization: Bearer`` header, never in the URL. Graph errors
are ``{"error": {"message", "type", "code", "error_subcode", "is_transient"}}``: code 190
(and 102) means the token expired or was revoked; codes 4, 17, 32, 613 and 80001 are rate
limits (the ``X-Business-Use-Case-Usage`` header says how many minutes until access
returns); codes 1 and 2, or ``is_transient``, are temporary.
Facebook has no idempotency key: a timeout on the post itself is an UnconfirmedError.

Config: ``page_id`` (required), ``api_base`` (default ``https://graph.facebook.com``),
``api_version`` (default the ``ENGAGE_FACEBOOK_GRAPH_VERSION`` setting, ``v25.0``),
``views_metric`` (default ``post_media_view``).
Secrets: ``page_access_token``; optionally ``app_access_token`` for ``debug_token``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings

from platforms.base import (
    AdapterError,
    AuthExpiredError,
    HealthResult,
    LookupQuery,
    LookupResult,
    Payload,
    PermanentError,
    PostStats,
    PublishResult,
    TransientError,
)
from platforms.common import AdapterBase, figure
from platforms.facebook.graph_versions import CURRENT, version_warning
from platforms.hashtags import with_hashtags
from platforms.http import answer_detail, error_for_status, json_or_empty, send, short
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

DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_VIEWS_METRIC = "post_media_view"
PERMISSION_CODES = frozenset({10, 200})  # "(#10) ... requires read_insights", "(#200) Permissions error"
STATS_FIELDS = "shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"
GONE_CODES = frozenset({100})  # "Object with ID ... does not exist"
MAX_PHOTOS = 10
AUTH_CODES = frozenset({102, 190})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2})
LOOKUP_PAGE_SIZE = 100  # published_posts: limit at most 100


class FacebookAdapter(AdapterBase):
    kind = "facebook"
    supports_withdraw = True
    honours_idempotency_key = False
    can_lookup = True
    supports_stats = True
    stats_figures = frozenset({"views", "shares", "replies", "likes"})
    required_config = ("page_id",)
    required_secrets = ("page_access_token",)

    @property
    def api_version(self) -> str:
        """The channel's ``api_version``, else the ``ENGAGE_FACEBOOK_GRAPH_VERSION`` setting."""
        configured = self.config.get("api_version") or getattr(settings, "ENGAGE_FACEBOOK_GRAPH_VERSION", "")
        return str(configured or CURRENT).strip().strip("/")

    def _url(self, path: str) -> str:
        base = str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        return f"{base}/{self.api_version}/{path.lstrip('/')}"

    @property
    def _page(self) -> str:
        return str(self.config["page_id"])

    # --- publishing ------------------------------------------------------------------------
    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        if payload.in_reply_to:
            if payload.media:
                raise PermanentError("facebook: a comment reply carries text only")
            body = self._call(
                "POST",
                f"{payload.in_reply_to}/comments",
                what="facebook comment",
                retry_safe=False,
                data={"message": composed_text(payload)},
            )
            return self._result(str(body.get("id", "")))
        if len(payload.media) > MAX_PHOTOS:
            raise PermanentError(f"facebook: at most {MAX_PHOTOS} photos per post, got {len(payload.media)}")
        if len(payload.media) == 1:
            item = payload.media[0]
            body = self._call(
                "POST",
                f"{self._page}/photos",
                what="facebook photo post",
                retry_safe=False,
                data={"caption": composed_text(payload), "alt_text_custom": item.alt_text, "published": "true"},
                files={"source": (item.filename, item.content, item.mime)},
            )
            return self._result(str(body.get("post_id") or body.get("id") or ""))
        form: dict[str, str] = {"message": composed_text(payload)}
        if payload.media:
            for index, item in enumerate(payload.media):
                photo = self._call(
                    "POST",
                    f"{self._page}/photos",
                    what="facebook photo upload",
                    retry_safe=True,
                    data={"alt_text_custom": item.alt_text, "published": "false"},
                    files={"source": (item.filename, item.content, item.mime)},
                )
                form[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo.get("id", ""))})
        elif payload.link:
            form["link"] = payload.link
        body = self._call("POST", f"{self._page}/feed", what="facebook post", retry_safe=False, data=form)
        return self._result(str(body.get("id", "")))

    def _result(self, post_id: str) -> PublishResult:
        if not post_id:
            raise PermanentError("facebook: the answer had no id")
        return PublishResult(
            external_id=post_id, external_url=f"https://www.facebook.com/{post_id}", http_status=200
        )

    # --- withdraw and health -----------------------------------------------------------------
    def withdraw(self, external_id: str) -> None:
        try:
            self._call("DELETE", external_id, what="facebook delete", retry_safe=True)
        except PermanentError as exc:
            if exc.http_status == 404:
                return
            raise

    def check(self) -> HealthResult:
        try:
            page = self._call(
                "GET", "me", what="facebook check", retry_safe=True, params={"fields": "id,name"}
            )
        except AuthExpiredError as exc:
            return HealthResult(state="auth_expired", detail=exc.detail)
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        if str(page.get("id")) != self._page:
            return HealthResult(state="failing", detail=f"the token belongs to another page, not page {self._page}")
        name = "the Page token was accepted"
        try:
            token = self._debug_token()
        except AuthExpiredError as exc:
            return HealthResult(state="auth_expired", detail=exc.detail)
        except AdapterError as exc:
            return HealthResult(state="ok", detail=f"{name} (expiry not checked: {exc.detail})"[:500],
                                expiry_unknown=True)
        if token.get("is_valid") is False:
            return HealthResult(state="auth_expired", detail="facebook check: the token is no longer valid")
        expires = token.get("expires_at")
        expires_at = (
            datetime.fromtimestamp(int(expires), UTC)
            if isinstance(expires, int | float) and not isinstance(expires, bool) and expires > 0
            else None
        )
        return HealthResult(state="ok", detail=name, expires_at=expires_at, warnings=self._version_warnings())

    def _version_warnings(self) -> tuple[str, ...]:
        days = int(getattr(settings, "ENGAGE_FACEBOOK_VERSION_WARNING_DAYS", 90))
        warning = version_warning(self.api_version, datetime.now(UTC).date(), warn_days=days)
        return (warning,) if warning else ()

    def _debug_token(self) -> dict[str, Any]:
        """``GET /debug_token``: the Page token's validity and expiry (``data``)."""
        caller = self.secrets.get("app_access_token") or self.secrets["page_access_token"]
        response = send(
            self.http,
            "GET",
            self._url("debug_token"),
            what="facebook token check",
            retry_safe=True,
            redact=self.redact,
            headers={"Authorization": f"Bearer {caller}"},
            params={"input_token": self.secrets["page_access_token"]},
        )
        body = json_or_empty(response)
        body = body if isinstance(body, dict) else {}
        if not (200 <= response.status_code < 300) or "error" in body:
            raise self._error(response, body, what="facebook token check", retry_safe=True)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    # --- look-up -------------------------------------------------------------------------------
    def lookup(self, query: LookupQuery) -> LookupResult:
        """Did the post in ``query`` go out? The Page's published posts in the window
        (``GET /{page-id}/published_posts`` with ``since``/``until``; a photo post is listed there
        with its caption as ``message``), compared with the text ``publish`` sends. A comment reply
        (``in_reply_to``): the Page's own comments among the direct comments on that object
        (``GET /{object-id}/comments``, newest first, ``since`` the window)."""
        window = Window.of(query)
        sent = composed_text(query.payload)
        if (wordless := nothing_to_compare("Facebook", sent)) is not None:
            return wordless
        matches: list[Match] = []
        listed, pages, more = 0, 0, False
        max_pages = int(self.config.get("lookup_max_pages") or MAX_PAGES)
        limit = str(int(self.config.get("lookup_page_size") or LOOKUP_PAGE_SIZE))
        since = str(int(window.start.timestamp()))
        if query.payload.in_reply_to:
            what, path = "the comments on the object", f"{query.payload.in_reply_to}/comments"
            params = {"fields": "id,message,created_time,from", "filter": "toplevel",
                      "order": "reverse_chronological", "since": since, "limit": limit}
        else:
            what, path = "the Page's posts", f"{self._page}/published_posts"
            params = {"fields": "id,message,created_time", "since": since,
                      "until": str(int(window.end.timestamp()) + 1), "limit": limit}
        try:
            while True:
                body = self._call("GET", path, what="facebook look-up", retry_safe=True, params=params)
                pages += 1
                for post in body.get("data") or []:
                    if not isinstance(post, dict) or not post.get("id"):
                        continue
                    listed += 1
                    author = str((post.get("from") or {}).get("id") or "") if "from" in params["fields"] else self._page
                    if author == self._page and window.holds(parse_time(post.get("created_time"))) and same_text(
                            sent, str(post.get("message") or "")):
                        matches.append(Match(str(post["id"]), f"https://www.facebook.com/{post['id']}"))
                # More pages while Graph gives ``paging.next``; we ask for them with the ``after``
                # cursor on our own address (the token never goes to an address an answer names).
                paging = body.get("paging") or {}
                after = str((paging.get("cursors") or {}).get("after") or "")
                more = bool(paging.get("next"))
                if not more or not after or pages >= max_pages:
                    break
                params["after"] = after
        except AdapterError as exc:
            return could_not_list("Facebook", what, exc.http_status)
        return decide("Facebook", what, matches, complete=not more, listed=listed)

    # --- statistics ----------------------------------------------------------------------------
    def stats(self, external_id: str) -> PostStats | None:
        try:
            post = self._call(
                "GET", external_id, what="facebook stats", retry_safe=True, params={"fields": STATS_FIELDS}
            )
        except PermanentError as exc:
            if not isinstance(exc, AuthExpiredError) and (
                exc.http_status == 404 or exc.platform_code in GONE_CODES
            ):
                return None
            raise
        return PostStats(
            views=self._views(external_id),
            shares=figure((post.get("shares") or {}).get("count", 0)),
            replies=figure(((post.get("comments") or {}).get("summary") or {}).get("total_count")),
            likes=figure(((post.get("reactions") or {}).get("summary") or {}).get("total_count")),
        )

    def _metric(self) -> str:
        return str(self.config.get("views_metric", DEFAULT_VIEWS_METRIC) or "")

    def _insights(self, external_id: str, metric: str) -> dict[str, Any]:
        return self._call("GET", f"{external_id}/insights", what="facebook insights", retry_safe=True,
                          params={"metric": metric, "period": "lifetime"})

    def _views(self, external_id: str) -> int | None:
        metric = self._metric()
        if not metric:
            return None
        try:
            body = self._insights(external_id, metric)
        except AuthExpiredError:
            raise
        except PermanentError:
            return None  # no read_insights permission, or the metric is refused: stats_problems() says which
        for entry in body.get("data") or []:
            if isinstance(entry, dict) and entry.get("name") == metric:
                values = entry.get("values") or []
                if values and isinstance(values[-1], dict):
                    return figure(values[-1].get("value"))
        return None

    def stats_problems(self, external_id: str) -> list[str]:
        """Why this channel's figures would come back incomplete, asked on one of its posts: the
        views metric refused (deprecated or unknown: Graph's code 100), or no permission to read
        insights. Sentences for the channel's health; the platform's own words are never quoted."""
        metric = self._metric()
        if not metric:
            return []
        try:
            self._insights(external_id, metric)
        except AuthExpiredError:
            return []  # the health check reports the sign-in itself
        except PermanentError as exc:
            if exc.http_status == 404 or (exc.platform_code in GONE_CODES and "metric" not in exc.platform_message):
                return []  # the sample post is gone: nothing learned about the metric
            if exc.platform_code in PERMISSION_CODES:
                return [f"Facebook views are not read: the Page token may not read insights (read_insights), "
                        f"Graph error {exc.platform_code}."]
            return [f"Facebook views are not read: Graph refuses the views metric {metric!r} "
                    f"(error {exc.platform_code}); it may be deprecated. Set views_metric to "
                    f"{DEFAULT_VIEWS_METRIC!r} or leave it unset."]
        except AdapterError:
            return []  # could not ask this time
        return []

    # --- the one call ------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, what: str, retry_safe: bool, **kwargs: Any) -> dict[str, Any]:
        response = send(
            self.http,
            method,
            self._url(path),
            what=what,
            retry_safe=retry_safe,
            redact=self.redact,
            headers={"Authorization": f"Bearer {self.secrets['page_access_token']}"},
            **kwargs,
        )
        body = json_or_empty(response)
        body = body if isinstance(body, dict) else {}
        if 200 <= response.status_code < 300 and "error" not in body:
            return body
        raise self._error(response, body, what=what, retry_safe=retry_safe)

    def _error(
        self, response: httpx.Response, body: dict[str, Any], *, what: str, retry_safe: bool
    ) -> AdapterError:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = error.get("code")
        message = short(str(error.get("message") or response.reason_phrase))
        full_code = f"{code}/{error['error_subcode']}" if code is not None and error.get("error_subcode") else code
        detail = self.redact(answer_detail(what, response, platform_code=full_code))
        result = self._classify(response, error, code, detail, message, what=what, retry_safe=retry_safe)
        result.platform_code = code
        result.platform_message = self.redact(message)
        return result

    def _classify(
        self,
        response: httpx.Response,
        error: dict[str, Any],
        code: Any,
        detail: str,
        message: str,
        *,
        what: str,
        retry_safe: bool,
    ) -> AdapterError:
        status = response.status_code
        if code in AUTH_CODES:
            return AuthExpiredError(detail, http_status=status)
        if code in RATE_LIMIT_CODES:
            return TransientError(detail, http_status=status, retry_after=_regain_seconds(response))
        if code in TRANSIENT_CODES or error.get("is_transient") is True:
            if status == 504 and not retry_safe:
                return error_for_status(
                    response, what=what, detail=message, redact=self.redact, retry_safe=False, platform_code=code
                )
            return TransientError(detail, http_status=status)
        if error and 400 <= status < 500 and status not in (401, 429):
            return PermanentError(detail, http_status=status)
        return error_for_status(
            response, what=what, detail=message, redact=self.redact, retry_safe=retry_safe, platform_code=code
        )


def composed_text(payload: Payload) -> str:
    """The ``message`` (or photo ``caption``) exactly as ``publish`` sends it (and ``lookup``
    compares)."""
    return with_hashtags(payload.text, payload.hashtags)


def _regain_seconds(response: httpx.Response) -> float | None:
    """Minutes until access returns, from ``X-Business-Use-Case-Usage``, as seconds."""
    raw = response.headers.get("X-Business-Use-Case-Usage")
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = {}
        minutes = [
            entry.get("estimated_time_to_regain_access", 0)
            for entries in (usage.values() if isinstance(usage, dict) else [])
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
        ]
        if minutes and max(minutes) > 0:
            return float(max(minutes)) * 60.0
    retry_after = response.headers.get("Retry-After")
    return float(retry_after) if retry_after and retry_after.isdigit() else None
