"""Mastodon: statuses with images, through the instance's REST API.

* media: ``POST /api/v2/media`` (multipart ``file`` + ``description`` = alt text). The
  instance answers 200 when the file is processed or 202 with ``url: null`` while it is
  processed in the background; we then poll ``GET /api/v1/media/:id`` (206 while
  processing, 200 when done) a bounded number of times.
* status: ``POST /api/v1/statuses`` (form: ``status``, ``media_ids[]``, ``language``,
  ``visibility``, ``in_reply_to_id``) with an ``Idempotency-Key`` header. Mastodon keeps
  idempotency keys for one hour, so within that hour a retry with the same key returns
  the original status instead of posting twice: a timeout is a TransientError here.
* withdraw: ``DELETE /api/v1/statuses/:id`` (a 404 means it is already gone).
* check: ``GET /api/v1/accounts/verify_credentials`` (401: the token was revoked). Mastodon
  access tokens do not expire, so the check reports no expiry.
* stats: ``GET /api/v1/statuses/:id``: ``reblogs_count`` (shares), ``favourites_count``
  (likes), ``replies_count``; Mastodon counts no views. A 404 means the status is gone.
* look-up (after the key's hour): ``GET /api/v1/accounts/:id/statuses`` (the id from
  ``verify_credentials``), paged back with ``max_id``; ``content`` made plain and compared with the
  text ``publish`` sends (``platforms.lookup``).

Replies come in by polling, not here: ``platforms.mastodon.inbound.notification_pages`` reads the
account's mention and quote notifications, filtered ones included, and
``engage.inbound.ingest.mastodon_poll`` stores them (docs/platforms.md).

Config: ``instance_url`` (required), ``visibility`` (default ``public``),
``max_characters`` (the instance's limit, default 500), ``media_poll_attempts`` (20),
``media_poll_interval`` (seconds, 1.0). Secrets: ``access_token``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

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
    TransientError,
)
from platforms.common import AdapterBase, figure
from platforms.hashtags import with_hashtags
from platforms.http import error_for_status, json_or_empty, send, short
from platforms.lookup import (
    MAX_PAGES,
    Match,
    Window,
    could_not_list,
    decide,
    html_text,
    nothing_to_compare,
    parse_time,
    same_text,
)

MAX_MEDIA = 4
VISIBILITIES = ("public", "unlisted", "private", "direct")
LOOKUP_PAGE_SIZE = 40  # GET /api/v1/accounts/:id/statuses: limit at most 40


class MastodonAdapter(AdapterBase):
    kind = "mastodon"
    supports_withdraw = True
    honours_idempotency_key = True
    can_lookup = True
    supports_stats = True
    stats_figures = frozenset({"shares", "replies", "likes"})
    required_config = ("instance_url",)
    required_secrets = ("access_token",)
    _account_id: str = ""

    @property
    def _base(self) -> str:
        return str(self.config["instance_url"]).rstrip("/")

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['access_token']}"}

    # --- publishing ------------------------------------------------------------------------
    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        if len(payload.media) > MAX_MEDIA:
            raise PermanentError(f"mastodon: at most {MAX_MEDIA} images per status, got {len(payload.media)}")
        visibility = str(self.config.get("visibility", "public"))
        if visibility not in VISIBILITIES:
            raise PermanentError(f"mastodon: unknown visibility {visibility!r}")
        media_ids = [self._upload(item) for item in payload.media]
        form: dict[str, str | list[str]] = {"status": composed_text(payload), "visibility": visibility}
        if payload.language:
            form["language"] = payload.language
        if media_ids:
            form["media_ids[]"] = media_ids
        if payload.in_reply_to:
            form["in_reply_to_id"] = payload.in_reply_to
        response = send(
            self.http,
            "POST",
            f"{self._base}/api/v1/statuses",
            what="mastodon status",
            retry_safe=True,
            redact=self.redact,
            headers={**self._auth, "Idempotency-Key": idempotency_key},
            data=form,
        )
        if response.status_code != 200:
            raise self._error(response, "mastodon status", retry_safe=True)
        status = json_or_empty(response)
        if not isinstance(status, dict) or not status.get("id"):
            raise PermanentError("mastodon status: the instance answered 200 without a status id")
        return PublishResult(
            external_id=str(status["id"]),
            external_url=str(status.get("url") or status.get("uri") or ""),
            http_status=response.status_code,
        )

    def _upload(self, item: MediaItem) -> str:
        # An orphaned upload is harmless (the instance deletes unattached media), so every
        # media request is retry safe.
        response = send(
            self.http,
            "POST",
            f"{self._base}/api/v2/media",
            what="mastodon media upload",
            retry_safe=True,
            redact=self.redact,
            headers=self._auth,
            data={"description": item.alt_text},
            files={"file": (item.filename, item.content, item.mime)},
        )
        if response.status_code not in (200, 202):
            raise self._error(response, "mastodon media upload", retry_safe=True)
        media = json_or_empty(response)
        if not isinstance(media, dict) or not media.get("id"):
            raise PermanentError("mastodon media upload: no media id in the answer")
        media_id = str(media["id"])
        if response.status_code == 200 and media.get("url"):
            return media_id
        return self._wait_until_processed(media_id)

    def _wait_until_processed(self, media_id: str) -> str:
        attempts = int(self.config.get("media_poll_attempts", 20))
        interval = float(self.config.get("media_poll_interval", 1.0))
        for _ in range(attempts):
            time.sleep(interval)
            response = send(
                self.http,
                "GET",
                f"{self._base}/api/v1/media/{media_id}",
                what="mastodon media status",
                retry_safe=True,
                redact=self.redact,
                headers=self._auth,
            )
            if response.status_code == 206:
                continue
            if response.status_code != 200:
                raise self._error(response, "mastodon media status", retry_safe=True)
            if (json_or_empty(response) or {}).get("url"):
                return media_id
        raise TransientError(
            f"mastodon media upload: media {media_id} still processing after {attempts} checks",
            retry_after=interval * attempts,
        )

    # --- withdraw and health -----------------------------------------------------------------
    def withdraw(self, external_id: str) -> None:
        response = send(
            self.http,
            "DELETE",
            f"{self._base}/api/v1/statuses/{external_id}",
            what="mastodon delete",
            retry_safe=True,
            redact=self.redact,
            headers=self._auth,
        )
        if response.status_code in (200, 404):
            return
        raise self._error(response, "mastodon delete", retry_safe=True)

    def check(self) -> HealthResult:
        try:
            response = send(
                self.http,
                "GET",
                f"{self._base}/api/v1/accounts/verify_credentials",
                what="mastodon check",
                retry_safe=True,
                redact=self.redact,
                headers=self._auth,
            )
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        if response.status_code == 200:
            return HealthResult(state="ok", detail="the instance accepted the access token")
        error = self._error(response, "mastodon check", retry_safe=True)
        state = "auth_expired" if isinstance(error, AuthExpiredError) else "failing"
        return HealthResult(state=state, detail=error.detail)

    # --- look-up -------------------------------------------------------------------------------
    def lookup(self, query: LookupQuery) -> LookupResult:
        """Did the status in ``query`` go out? The account's statuses (``GET /api/v1/accounts/:id/
        statuses``, newest first, paged back with ``max_id`` until one is older than the window),
        compared with the text ``publish`` sends: ``content`` is HTML, made plain first."""
        window = Window.of(query)
        sent = composed_text(query.payload)
        if (wordless := nothing_to_compare("Mastodon", sent)) is not None:
            return wordless
        matches: list[Match] = []
        listed, pages, complete, max_id = 0, 0, False, ""
        max_pages = int(self.config.get("lookup_max_pages") or MAX_PAGES)
        limit = str(int(self.config.get("lookup_page_size") or LOOKUP_PAGE_SIZE))
        try:
            account_id = self._account()
            while pages < max_pages and not complete:
                params = {"limit": limit, "exclude_reblogs": "true"}
                if max_id:
                    params["max_id"] = max_id
                response = send(self.http, "GET", f"{self._base}/api/v1/accounts/{account_id}/statuses",
                                what="mastodon look-up", retry_safe=True, redact=self.redact, headers=self._auth,
                                params=params)
                if response.status_code != 200:
                    raise self._error(response, "mastodon look-up", retry_safe=True)
                statuses = json_or_empty(response)
                if not isinstance(statuses, list):
                    raise PermanentError("mastodon look-up: the answer was not a list of statuses")
                pages += 1
                statuses = [s for s in statuses if isinstance(s, dict) and s.get("id")]
                for status in statuses:
                    listed += 1
                    created = parse_time(status.get("created_at"))
                    if window.holds(created) and same_text(sent, html_text(str(status.get("content") or ""))):
                        matches.append(Match(str(status["id"]), str(status.get("url") or status.get("uri") or "")))
                    if created is not None and created < window.start:
                        complete = True  # newest first: everything after this is older still
                if not statuses:
                    complete = True
                else:
                    max_id = str(statuses[-1]["id"])
        except AdapterError as exc:
            return could_not_list("Mastodon", "the account's statuses", exc.http_status)
        return decide("Mastodon", "the account's statuses", matches, complete=complete, listed=listed)

    def _account(self) -> str:
        """The account's id, from ``verify_credentials`` (asked once)."""
        if not self._account_id:
            response = send(self.http, "GET", f"{self._base}/api/v1/accounts/verify_credentials",
                            what="mastodon look-up", retry_safe=True, redact=self.redact, headers=self._auth)
            if response.status_code != 200:
                raise self._error(response, "mastodon look-up", retry_safe=True)
            account = json_or_empty(response)
            if not isinstance(account, dict) or not account.get("id"):
                raise PermanentError("mastodon look-up: verify_credentials gave no account id")
            self._account_id = str(account["id"])
        return self._account_id

    # --- statistics ----------------------------------------------------------------------------
    def stats(self, external_id: str) -> PostStats | None:
        response = send(
            self.http,
            "GET",
            f"{self._base}/api/v1/statuses/{external_id}",
            what="mastodon stats",
            retry_safe=True,
            redact=self.redact,
            headers=self._auth,
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response, "mastodon stats", retry_safe=True)
        status = json_or_empty(response)
        if not isinstance(status, dict):
            raise PermanentError("mastodon stats: the answer was not a status")
        return PostStats(
            views=None,
            shares=figure(status.get("reblogs_count")),
            replies=figure(status.get("replies_count")),
            likes=figure(status.get("favourites_count")),
        )

    # --- errors ------------------------------------------------------------------------------
    def _error(self, response: httpx.Response, what: str, *, retry_safe: bool) -> AdapterError:
        body = json_or_empty(response)
        detail = body.get("error", "") if isinstance(body, dict) else ""
        retry_after = None
        if response.status_code == 429:
            retry_after = _seconds_until(response.headers.get("X-RateLimit-Reset"))
        return error_for_status(
            response,
            what=what,
            detail=short(str(detail or response.reason_phrase)),
            redact=self.redact,
            retry_safe=retry_safe,
            retry_after=retry_after,
        )


def composed_text(payload: Payload) -> str:
    """The ``status`` exactly as ``publish`` sends it (and ``lookup`` compares)."""
    return with_hashtags(payload.text, payload.hashtags)


def _seconds_until(reset: str | None) -> float | None:
    """Mastodon's ``X-RateLimit-Reset`` is an ISO 8601 time."""
    if not reset:
        return None
    try:
        when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
