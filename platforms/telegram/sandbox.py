"""Telegram Bot API: getMe, sendMessage, sendPhoto, sendMediaGroup, deleteMessage, getUpdates.

Checked against Bot API 10.1 (11 June 2026), as published in machine-readable form by
``PaulSonOfLars/telegram-bot-api-spec`` (``api.json``, commit 160fd99507e1c7c77e92dc90f5993d724735b51c,
MIT licence). Each rule below names the part of the spec it comes from:

* parameters: only those the spec lists for the method (:data:`PARAMETERS`); any other is
  refused with 400. The real Bot API ignores a parameter it does not know; the sandbox is
  stricter on purpose, so that a misspelt parameter fails a test instead of being silently
  dropped by Telegram (docs/platforms.md, "Known differences");
* ``sendMessage.text``: "1-4096 characters", ``sendPhoto.caption`` and
  ``InputMediaPhoto.caption``: "0-1024 characters", counted in UTF-16 code units
  (``platforms.textcount.utf16_units``, the count the adapter and the checker use);
  refused with "Bad Request: message is too long" / "Bad Request: message caption is too long";
* ``sendMediaGroup.media``: "an array describing messages to be sent, must include 2-10 items";
* ``deleteMessage``: "A message can only be deleted if it was sent less than 48 hours ago":
  an older one is refused with 400 "Bad Request: message can't be deleted", as Telegram does
  (make a post old with ``Sandbox.age_post``);
* ``getUpdates`` (``offset``, ``limit`` 1-100, ``timeout``, ``allowed_updates``): the updates
  queued with ``Sandbox.telegram_update`` (``platforms.telegram.sandbox_updates``), confirmed
  by calling with an ``offset`` higher than their ``update_id``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from platforms.sandbox.core import (
    Answer,
    Incoming,
    Record,
    Reply,
    Route,
    SandboxState,
    UploadedFile,
    new_record,
)
from platforms.telegram.counting import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT
from platforms.textcount import utf16_units

_SEND_COMMON = ("business_connection_id", "chat_id", "message_thread_id", "direct_messages_topic_id",
                "disable_notification", "protect_content", "allow_paid_broadcast", "message_effect_id",
                "reply_parameters")
# Bot API 10.1, each method's parameters as api.json lists them.
PARAMETERS: dict[str, frozenset[str]] = {
    "getMe": frozenset(),
    "sendMessage": frozenset({*_SEND_COMMON, "text", "parse_mode", "entities", "link_preview_options",
                              "suggested_post_parameters", "reply_markup"}),
    "sendPhoto": frozenset({*_SEND_COMMON, "photo", "caption", "parse_mode", "caption_entities",
                            "show_caption_above_media", "has_spoiler", "suggested_post_parameters", "reply_markup"}),
    "sendMediaGroup": frozenset({*_SEND_COMMON, "media"}),
    "deleteMessage": frozenset({"chat_id", "message_id"}),
    "getUpdates": frozenset({"offset", "limit", "timeout", "allowed_updates"}),
}
DELETE_WINDOW_SECONDS = 48 * 3600  # deleteMessage: "sent less than 48 hours ago"


class TelegramApi:
    platform = "telegram"
    TEXT_LIMIT = TELEGRAM_TEXT_LIMIT
    CAPTION_LIMIT = TELEGRAM_CAPTION_LIMIT

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", request.path)
        if not match:
            return None
        method = match.group(2)
        handlers: dict[str, tuple[Callable[[Incoming], Reply], bool]] = {
            "getMe": (lambda r: self.ok(self.bot(r)), False),
            "sendMessage": (self.send_message, True),
            "sendPhoto": (self.send_photo, True),
            "sendMediaGroup": (self.send_media_group, True),
            "deleteMessage": (self.delete_message, False),
            "getUpdates": (self.get_updates, False),
        }
        if request.method not in ("GET", "POST") or method not in handlers:
            return Route(self.platform, method, lambda r: self.error(404, "Not Found"))
        handler, creates = handlers[method]
        return Route(self.platform, method, self._strict(method, handler), creates_post=creates)

    def _strict(self, method: str, handler: Callable[[Incoming], Reply]) -> Callable[[Incoming], Reply]:
        """Refuse any parameter the spec does not list for ``method`` (see the module docstring)."""

        def checked(request: Incoming) -> Reply:
            names = set(request.query) | set(request.form)
            if isinstance(request.json, dict):
                names |= set(request.json)
            files = {item.name for item in request.files}
            attached = self._attached(request) if method == "sendMediaGroup" else set()
            unknown = sorted((names | files) - PARAMETERS[method] - attached)
            if unknown:
                raise Answer(self.error(
                    400, f"Bad Request: unknown parameter {unknown[0]!r} for {method} (Bot API 10.1)"))
            return handler(request)

        return checked

    @staticmethod
    def _attached(request: Incoming) -> set[str]:
        """The file parts a media group names with ``attach://<name>``."""
        try:
            media = json.loads(request.param("media") or "[]")
        except ValueError:
            return set()
        return {str(item.get("media", "")).removeprefix("attach://") for item in media
                if isinstance(item, dict) and str(item.get("media", "")).startswith("attach://")} if isinstance(
            media, list) else set()

    @staticmethod
    def ok(result: Any) -> Reply:
        return Reply(200, {"ok": True, "result": result})

    @staticmethod
    def error(code: int, description: str, parameters: dict[str, Any] | None = None) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return Reply(code, body)

    @staticmethod
    def _token(request: Incoming) -> str:
        return request.path.split("/")[1][len("bot") :]

    def authorize(self, request: Incoming) -> None:
        token = self._token(request)
        if token not in self.state.accounts.telegram_bots or self.state.behaviour(self.platform).auth_expired:
            raise Answer(self.error(401, "Unauthorized"), "auth_refused")

    def server_error(self) -> Reply:
        return self.error(500, "Internal Server Error")

    def rate_limited(self, retry_after: int) -> Reply:
        return self.error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def bot(self, request: Incoming) -> dict[str, Any]:
        token = self._token(request)
        return {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Engage Sandbox",
            "username": self.state.accounts.telegram_bots.get(token, ""),
            "can_join_groups": True,
        }

    def _chat(self, request: Incoming) -> dict[str, Any]:
        """The chat ``chat_id`` names; answers "chat not found" for any other."""
        chat_id = request.param("chat_id")
        if not chat_id:
            raise Answer(self.error(400, "Bad Request: chat_id is empty"))
        chat = self.state.accounts.telegram_chats.get(chat_id)
        if chat is None:
            raise Answer(self.error(400, "Bad Request: chat not found"))
        return chat

    def _reply_to(self, request: Incoming) -> int | None:
        raw = request.param("reply_parameters")
        if raw:
            try:
                parameters = json.loads(raw)
                message_id = int(parameters["message_id"])
            except (ValueError, KeyError, TypeError):
                raise Answer(
                    self.error(400, "Bad Request: can't parse reply parameters JSON object")
                ) from None
            allow_missing = bool(parameters.get("allow_sending_without_reply"))
        else:
            return None
        if self._holder(self._chat(request)["id"], str(message_id)) is None:
            if allow_missing:
                return None
            raise Answer(self.error(400, "Bad Request: message to be replied not found"))
        return message_id

    def _message(self, request: Incoming, extra: dict[str, Any], *, media_group: str = "") -> dict[str, Any]:
        chat = self._chat(request)
        reply_to = self._reply_to(request)
        with self.state.lock:
            counter = self.state.telegram_counters.setdefault(chat["id"], itertools.count(1))
            message_id = next(counter)
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, **extra}
        if media_group:
            message["media_group_id"] = media_group
        if reply_to is not None:
            message["reply_to_message"] = {"message_id": reply_to, "chat": chat}
        return message

    def send_message(self, request: Incoming) -> Reply:
        self._chat(request)
        text = request.param("text") or ""
        if not text.strip():
            raise Answer(self.error(400, "Bad Request: message text is empty"))
        if utf16_units(text) > self.TEXT_LIMIT:
            raise Answer(self.error(400, "Bad Request: message is too long"))
        message = self._message(request, {"text": text})
        self._store("sendMessage", request, [message])
        return self.ok(message)

    def _photo(self, upload: UploadedFile) -> list[dict[str, Any]]:
        digest = hashlib.sha256(upload.content).hexdigest()
        return [
            {
                "file_id": f"AgAC{digest[:40]}",
                "file_unique_id": digest[:16],
                "file_size": len(upload.content),
                "width": 0,
                "height": 0,
            }
        ]

    def send_photo(self, request: Incoming) -> Reply:
        self._chat(request)
        upload = request.file("photo")
        if upload is None or not upload.content:
            raise Answer(self.error(400, "Bad Request: there is no photo in the request"))
        caption = request.param("caption") or ""
        if utf16_units(caption) > self.CAPTION_LIMIT:
            raise Answer(self.error(400, "Bad Request: message caption is too long"))
        extra: dict[str, Any] = {"photo": self._photo(upload)}
        if caption:
            extra["caption"] = caption
        message = self._message(request, extra)
        self._store("sendPhoto", request, [message])
        return self.ok(message)

    def send_media_group(self, request: Incoming) -> Reply:
        self._chat(request)
        try:
            media = json.loads(request.param("media") or "")
        except ValueError:
            raise Answer(self.error(400, "Bad Request: can't parse media JSON object")) from None
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise Answer(
                self.error(400, "Bad Request: wrong number of media in the media group: must be 2-10")
            )
        messages = []
        group_id = str(13_000_000_000_000_000 + self.state.next_id())
        uploads = []
        for item in media:
            reference = str(item.get("media", "")) if isinstance(item, dict) else ""
            upload = (
                request.file(reference.removeprefix("attach://"))
                if reference.startswith("attach://")
                else None
            )
            if not isinstance(item, dict) or item.get("type") != "photo" or upload is None:
                raise Answer(self.error(400, "Bad Request: wrong file identifier/HTTP URL specified"))
            if utf16_units(str(item.get("caption", ""))) > self.CAPTION_LIMIT:
                raise Answer(self.error(400, "Bad Request: message caption is too long"))
            uploads.append((item, upload))
        for item, upload in uploads:
            extra: dict[str, Any] = {"photo": self._photo(upload)}
            if item.get("caption"):
                extra["caption"] = item["caption"]
            messages.append(self._message(request, extra, media_group=group_id))
        self._store("sendMediaGroup", request, messages)
        return self.ok(messages)

    def _store(self, op: str, request: Incoming, messages: list[dict[str, Any]]) -> None:
        ids = [message["message_id"] for message in messages]
        data = {"messages": messages, "message_ids": ids, "chat_id": messages[0]["chat"]["id"]}
        new_record(self.state, self.platform, op, request, ",".join(map(str, ids)), is_post=True, data=data)

    def _holder(self, chat_id: int, message_id: str) -> Record | None:
        """The post holding ``message_id`` in the chat (an album holds several)."""
        for record in self.state.posts(self.platform):
            if record.data.get("chat_id") != chat_id:
                continue
            if message_id in [str(i) for i in record.data.get("message_ids", [])]:
                return record
        return None

    def delete_message(self, request: Incoming) -> Reply:
        chat = self._chat(request)
        message_id = request.param("message_id") or ""
        with self.state.lock:
            record = self._holder(chat["id"], message_id)
            if record is None:
                raise Answer(self.error(400, "Bad Request: message to delete not found"))
            if time.time() - record.created_at >= DELETE_WINDOW_SECONDS:
                raise Answer(self.error(400, "Bad Request: message can't be deleted"))
            record.data["message_ids"] = [i for i in record.data["message_ids"] if str(i) != message_id]
            if not record.data["message_ids"]:
                record.deleted = True
        return self.ok(True)

    def get_updates(self, request: Incoming) -> Reply:
        """Pending updates after ``offset``; those below it are confirmed and forgotten."""
        try:
            offset = int(request.param("offset") or 0)
            limit = int(request.param("limit") or 100)
            allowed = json.loads(request.param("allowed_updates") or "[]")
        except ValueError:
            raise Answer(self.error(400, "Bad Request: wrong parameter value")) from None
        limit = min(max(limit, 1), 100)
        with self.state.lock:
            queue = self.state.telegram_updates
            if offset:
                queue[:] = [u for u in queue if u["update_id"] >= offset]
            pending = [u for u in queue if not allowed or any(kind in u for kind in allowed)]
            return self.ok(pending[:limit])
