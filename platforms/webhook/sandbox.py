"""A partner receiving Engage's signed webhooks (it verifies with core.signing)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from core.signing import SignatureError, verify
from platforms.sandbox.core import (
    Answer,
    Incoming,
    Reply,
    Route,
    SandboxState,
    new_record,
)


class HooksApi:
    platform = "webhook"

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        lookup = self._lookup_path(request)
        if lookup is not None:
            name, key = lookup
            return Route(self.platform, "status_lookup", lambda r: self.status(name, key))
        match = re.fullmatch(r"/hooks/([A-Za-z0-9_.-]+)(/health)?", request.path)
        if not match:
            return None
        name = match.group(1)
        if match.group(2):
            return Route(self.platform, "health", lambda r: Reply(200, {"ok": True}))
        if request.method == "POST":
            return Route(self.platform, "delivery", lambda r: self.receive(r, name), creates_post=True)
        return Route(
            self.platform,
            "not_allowed",
            lambda r: Reply(405, {"error": "method_not_allowed"}, {"Allow": "POST"}),
        )

    @staticmethod
    def _lookup_path(request: Incoming) -> tuple[str, str] | None:
        """``GET /hooks/<name>/<idempotency key>``: the status look-up (``/health`` is the health check)."""
        match = re.fullmatch(r"/hooks/([A-Za-z0-9_.-]+)/([^/]+)", request.path)
        if request.method != "GET" or not match or match.group(2) == "health":
            return None
        return match.group(1), unquote(match.group(2))

    def status(self, name: str, key: str) -> Reply:
        """Whether this partner received a delivery under ``key``: 200 with its id, else 404."""
        with self.state.lock:
            earlier = self.state.idempotency.get((self.platform, name, key))
        if earlier is None:
            return Reply(404, {"error": "not_found", "message": "No delivery with this key was received."})
        return Reply(200, {"id": earlier, "received": True})

    def secret_for(self, name: str) -> str:
        with self.state.lock:
            return self.state.accounts.hook_secrets.get(name, self.state.accounts.default_hook_secret)

    def authorize(self, request: Incoming) -> None:
        """The POST and the status look-up (a GET, signed over its empty body) must carry a valid signature."""
        if request.path.endswith("/health") or not (request.method == "POST" or self._lookup_path(request)):
            return
        name = request.path.split("/")[2]
        try:
            verify(
                secret=self.secret_for(name),
                body=request.body,
                timestamp=request.header("X-Engage-Timestamp"),
                signature=request.header("X-Engage-Signature"),
            )
        except SignatureError as exc:
            raise Answer(Reply(401, {"error": exc.code, "message": exc.message}), "auth_refused") from None
        if self.state.behaviour(self.platform).auth_expired:
            raise Answer(
                Reply(401, {"error": "bad_signature", "message": "The signing secret was rotated."}),
                "auth_refused",
            )

    def server_error(self) -> Reply:
        return Reply(500, {"error": "internal_error"})

    def rate_limited(self, retry_after: int) -> Reply:
        return Reply(429, {"error": "rate_limited"}, {"Retry-After": str(retry_after)})

    def receive(self, request: Incoming, name: str) -> Reply:
        if request.content_type != "application/json" or not isinstance(request.json, dict):
            raise Answer(Reply(415, {"error": "unsupported_media_type", "message": "Send application/json."}))
        key = request.header("Idempotency-Key")
        with self.state.lock:
            if key and (earlier := self.state.idempotency.get((self.platform, name, key))):
                record = self.state.find(self.platform, earlier)
                return Reply(200, record.data["answer"] if record else {"id": earlier})
            event = request.json.get("event")
            if event == "message.withdrawn":
                target = str(request.json.get("id") or "")
                for record in self.state.posts(self.platform):
                    if record.id == target or record.fields.get("id") == target:
                        record.deleted = True
                answer = {"withdrawn": True, "id": target}
                record_id = f"withdraw-{self.state.next_id()}"
                new_record(
                    self.state,
                    self.platform,
                    "withdrawal",
                    request,
                    record_id,
                    is_post=False,
                    data={"answer": answer},
                )
            elif event == "message.published":
                if not isinstance(request.json.get("text"), str):
                    raise Answer(Reply(422, {"error": "invalid", "message": "text is required"}))
                record_id = f"hook-{name}-{self.state.next_id()}"
                answer = {"id": record_id, "received": True}
                new_record(
                    self.state,
                    self.platform,
                    "delivery",
                    request,
                    record_id,
                    is_post=True,
                    data={"answer": answer, "hook": name},
                )
            else:
                raise Answer(Reply(422, {"error": "invalid", "message": f"unknown event {event!r}"}))
            if key:
                self.state.idempotency[(self.platform, name, key)] = record_id
        return Reply(200, answer)
