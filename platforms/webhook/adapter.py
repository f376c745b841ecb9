"""Outbound webhooks: a signed JSON POST to a partner's URL.

Headers: ``Content-Type: application/json``, ``Idempotency-Key``, ``X-Engage-Timestamp``
(unix seconds) and ``X-Engage-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
(see ``core.signing``; partners verify with the same function's rules).

The body::

    {"event": "message.published", "id": <idempotency key>, "text", "language", "title",
     "link", "in_reply_to", "metadata": {...},
     "media": [{"filename", "mime", "alt_text", "size", "content_base64"}]}

Images are inlined as base64 while their total size is at most ``max_inline_media_bytes``
(default 1 MiB); above that each entry is sent without ``content_base64`` and with
``"omitted": true`` (the partner fetches the public page at ``link`` for the images).
The answer may carry ``{"id": ...}``; otherwise ``external_id`` is the idempotency key.

Withdraw sends ``{"event": "message.withdrawn", "id": <external id>}`` the same way.
A partner that deduplicates on ``Idempotency-Key`` makes retries safe: say so with config
``honours_idempotency_key: true``; otherwise a timeout after sending is unconfirmed.
Check sends ``GET`` to ``health_url`` when configured, else a ``HEAD`` to ``url`` (any HTTP
answer proves the endpoint is reachable).

Status look-up (config ``status_lookup: true``, for a partner that implements it): ``GET
{url}/{idempotency key}`` with the same ``Idempotency-Key``, ``X-Engage-Timestamp`` and
``X-Engage-Signature`` headers as the POST, the signature over an empty body. 200 (optionally with
``{"id": ...}``): the partner received that delivery (found); 404: it did not (absent: safe to send
again); anything else, or no answer: it cannot tell (unknown, a person checks). Only turn it on for a
partner that implements it: a 404 from one that does not would make every delivery look absent.

Config: ``url``, ``health_url``, ``honours_idempotency_key``, ``max_inline_media_bytes``, ``status_lookup``.
Secrets: ``signing_secret``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from core.signing import sign
from platforms.base import (
    AdapterError,
    AuthExpiredError,
    HealthResult,
    LookupQuery,
    LookupResult,
    Payload,
    PermanentError,
    PublishResult,
)
from platforms.common import AdapterBase
from platforms.http import error_for_status, json_or_empty, send, short

DEFAULT_MAX_INLINE_MEDIA = 1024 * 1024


class WebhookAdapter(AdapterBase):
    kind = "webhook"
    supports_withdraw = True
    can_lookup = False
    required_config = ("url",)
    required_secrets = ("signing_secret",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        url = str(self.config["url"])
        if not url.startswith(("https://", "http://")):
            raise PermanentError("webhook: url must be http(s)")
        # An instance attribute: whether retries are safe depends on the partner.
        self.honours_idempotency_key = bool(self.config.get("honours_idempotency_key", False))
        self.can_lookup = self.lookup_offered(self.config)

    @classmethod
    def lookup_offered(cls, config: Mapping[str, Any]) -> bool:
        """The partner says it implements the status look-up (config ``status_lookup: true``)."""
        return bool(config.get("status_lookup"))

    def body_for(self, payload: Payload, *, idempotency_key: str) -> bytes:
        limit = int(self.config.get("max_inline_media_bytes", DEFAULT_MAX_INLINE_MEDIA))
        inline = sum(len(item.content) for item in payload.media) <= limit
        media = []
        for item in payload.media:
            entry: dict[str, Any] = {
                "filename": item.filename,
                "mime": item.mime,
                "alt_text": item.alt_text,
                "size": len(item.content),
            }
            if inline:
                entry["content_base64"] = base64.b64encode(item.content).decode("ascii")
            else:
                entry["omitted"] = True
            media.append(entry)
        document = {
            "event": "message.published",
            "id": idempotency_key,
            "text": payload.text,
            "language": payload.language,
            "title": payload.subject,
            "link": payload.link,
            "in_reply_to": payload.in_reply_to,
            "metadata": dict(payload.metadata),
            "media": media,
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        body = self.body_for(payload, idempotency_key=idempotency_key)
        response = self._post(
            body, idempotency_key=idempotency_key, what="webhook", retry_safe=self.honours_idempotency_key
        )
        answer = json_or_empty(response)
        external_id = (
            str(answer.get("id") or idempotency_key) if isinstance(answer, dict) else idempotency_key
        )
        return PublishResult(external_id=external_id, http_status=response.status_code)

    def withdraw(self, external_id: str) -> None:
        body = json.dumps(
            {"event": "message.withdrawn", "id": external_id}, separators=(",", ":"), sort_keys=True
        )
        self._post(
            body.encode("utf-8"),
            idempotency_key=f"withdraw:{external_id}",
            what="webhook withdraw",
            retry_safe=True,
        )

    def lookup(self, query: LookupQuery) -> LookupResult:
        """Ask the partner whether it received the delivery sent under ``query.idempotency_key``."""
        if not self.can_lookup:
            return super().lookup(query)
        key = query.idempotency_key
        timestamp = int(time.time())
        headers = {
            "Idempotency-Key": key,
            "X-Engage-Timestamp": str(timestamp),
            "X-Engage-Signature": sign(secret=self.secrets["signing_secret"], body=b"", timestamp=timestamp),
        }
        url = f"{str(self.config['url']).rstrip('/')}/{quote(key, safe='')}"
        try:
            response = send(self.http, "GET", url, what="webhook status look-up", retry_safe=True,
                            redact=self.redact, headers=headers)
        except AdapterError as exc:
            return LookupResult("unknown", f"The partner did not answer the status look-up: {exc.detail}",
                                http_status=exc.http_status)
        status = response.status_code
        if status == 200:
            answer = json_or_empty(response)
            partner_id = answer.get("id") if isinstance(answer, dict) else None
            return LookupResult("found", "The partner answered 200: it received this delivery.",
                                external_id=str(partner_id or key)[:200], http_status=status)
        if status == 404:
            return LookupResult("absent", "The partner answered 404: it did not receive this delivery.",
                                http_status=status)
        return LookupResult("unknown", f"The partner answered HTTP {status} to the status look-up.",
                            http_status=status)

    def _post(self, body: bytes, *, idempotency_key: str, what: str, retry_safe: bool) -> httpx.Response:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            "X-Engage-Timestamp": str(timestamp),
            "X-Engage-Signature": sign(secret=self.secrets["signing_secret"], body=body, timestamp=timestamp),
        }
        response = send(
            self.http,
            "POST",
            str(self.config["url"]),
            what=what,
            retry_safe=retry_safe,
            redact=self.redact,
            content=body,
            headers=headers,
        )
        if 200 <= response.status_code < 300:
            return response
        raise self._error(response, what=what, retry_safe=retry_safe)

    def _error(self, response: httpx.Response, *, what: str, retry_safe: bool) -> AdapterError:
        body = json_or_empty(response)
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("error") or body.get("detail") or body.get("message") or "")
        if response.status_code == 403:
            # A partner refusing our signature is a credentials problem, like a 401.
            error = AuthExpiredError(f"{what}: HTTP 403: the partner refused our signature", http_status=403)
            error.platform_message = self.redact(short(detail))
            return error
        return error_for_status(
            response,
            what=what,
            detail=short(detail or response.reason_phrase),
            redact=self.redact,
            retry_safe=retry_safe,
        )

    def check(self) -> HealthResult:
        health_url = str(self.config.get("health_url") or "")
        method, url = ("GET", health_url) if health_url else ("HEAD", str(self.config["url"]))
        try:
            response = send(self.http, method, url, what="webhook check", retry_safe=True, redact=self.redact)
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        if not health_url:
            return HealthResult(state="ok", detail=f"reachable (HEAD answered {response.status_code})")
        if 200 <= response.status_code < 300:
            return HealthResult(state="ok", detail=f"health answered {response.status_code}")
        if response.status_code in (401, 403):
            return HealthResult(state="auth_expired", detail=f"health answered {response.status_code}")
        return HealthResult(state="failing", detail=f"health answered {response.status_code}")
