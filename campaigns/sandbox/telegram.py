"""Telegram Bot API: getMe, sendMessage, sendPhoto, sendMediaGroup, deleteMessage."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from campaigns.sandbox.core import (
    Answer,
    Incoming,
    Record,
    Reply,
    Route,
    SandboxState,
    UploadedFile,
    new_record,
)


class TelegramApi:
    platform = "telegram"
    TEXT_LIMIT = 4096
    CAPTION_LIMIT = 1024

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
        }
        if request.method not in ("GET", "POST") or method not in handlers:
            return Route(self.platform, method, lambda r: self.error(404, "Not Found"))
        handler, creates = handlers[method]
        return Route(self.platform, method, handler, creates_post=creates)

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
        elif request.param("reply_to_message_id"):
            message_id, allow_missing = int(request.param("reply_to_message_id") or 0), False
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
        if len(text) > self.TEXT_LIMIT:
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
        if len(caption) > self.CAPTION_LIMIT:
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
            if len(str(item.get("caption", ""))) > self.CAPTION_LIMIT:
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
            record.data["message_ids"] = [i for i in record.data["message_ids"] if str(i) != message_id]
            if not record.data["message_ids"]:
                record.deleted = True
        return self.ok(True)
