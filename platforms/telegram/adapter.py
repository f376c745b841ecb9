"""Telegram: posts to a channel (or group) through the Bot API.

* text: ``sendMessage`` (JSON: ``chat_id``, ``text``, ``link_preview_options``; the
  preview shows ``payload.link`` when set, and config ``link_preview: false`` turns it off);
* one image: ``sendPhoto`` (multipart ``photo`` with the text as ``caption``);
* 2 to 10 images: ``sendMediaGroup`` (multipart, ``media`` is a JSON list of
  ``InputMediaPhoto`` pointing at ``attach://photoN`` parts; the caption rides on the first);
* replies: ``reply_parameters: {"message_id": ...}``.

Telegram has no alt text for photos and no idempotency key: a timeout after sending is an
UnconfirmedError. Lengths are counted as Telegram counts them, in UTF-16 code units
(``platforms.telegram.counting.telegram_length_problem``, the checker's count): a text has 1 to 4,096, a caption
at most 1,024; a longer text with images is refused before anything is sent (sending the text
separately would make a second post that can half-fail). 429 answers carry
``parameters.retry_after``. ``external_id`` is the message id (comma-joined ids for an album);
check is ``getMe``.

Withdraw is ``deleteMessage`` for each id. The Bot API lets a bot delete a message only while
it is less than 48 hours old (``deleteMessage``, Bot API 10.1); an older one is refused with
400 "Bad Request: message can't be deleted", raised as :class:`TooOldToDelete` (a
PermanentError): the delivery is then marked for removal by hand.

The bot token is part of every URL (``/bot<token>/method``): it is redacted from every
error detail and from httpx's request log.

Config: ``chat_id`` (``@channelname`` or a numeric id), ``api_base`` (default
``https://api.telegram.org``), ``channel_username`` (for links when ``chat_id`` is numeric),
``link_preview`` (default true). Secrets: ``bot_token``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from platforms.base import (
    AdapterError,
    AuthExpiredError,
    HealthResult,
    Payload,
    PermanentError,
    PublishResult,
    TransientError,
)
from platforms.common import AdapterBase
from platforms.hashtags import with_hashtags
from platforms.http import error_for_status, json_or_empty, send, short
from platforms.telegram.counting import TELEGRAM_CAPTION_LIMIT, telegram_length_problem

DEFAULT_API_BASE = "https://api.telegram.org"
CAPTION_LIMIT = TELEGRAM_CAPTION_LIMIT
MAX_ALBUM = 10
DELETE_WINDOW_HOURS = 48  # deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago."
TOO_OLD_TO_DELETE = (
    f"Telegram lets bots delete a message only while it is less than {DELETE_WINDOW_HOURS} hours old: "
    "remove this post by hand"
)


class TooOldToDelete(PermanentError):
    """Telegram refused ``deleteMessage`` because the message is 48 hours old or more."""


class TelegramAdapter(AdapterBase):
    kind = "telegram"
    supports_withdraw = True
    honours_idempotency_key = False
    can_lookup = False
    required_config = ("chat_id",)
    required_secrets = ("bot_token",)
    caption_limit = CAPTION_LIMIT

    def _url(self, method: str) -> str:
        base = str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        return f"{base}/bot{self.secrets['bot_token']}/{method}"

    @property
    def _chat_id(self) -> str:
        return str(self.config["chat_id"])

    # --- publishing ------------------------------------------------------------------------
    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        media = payload.media
        if len(media) > MAX_ALBUM:
            raise PermanentError(f"telegram: at most {MAX_ALBUM} images per album, got {len(media)}")
        text = composed_text(payload)
        problem = telegram_length_problem(text, caption=bool(media))
        if problem:
            raise PermanentError(f"telegram: {problem}")
        reply = self._reply_parameters(payload)
        if not media:
            body: dict[str, Any] = {"chat_id": self._chat_id, "text": text}
            preview: dict[str, Any] = {"is_disabled": not bool(self.config.get("link_preview", True))}
            if payload.link and not preview["is_disabled"]:
                preview["url"] = payload.link
            body["link_preview_options"] = preview
            if reply:
                body["reply_parameters"] = reply
            messages = self._call("sendMessage", what="telegram sendMessage", retry_safe=False, json=body)
        elif len(media) == 1:
            item = media[0]
            form = {"chat_id": self._chat_id, "caption": text}
            if reply:
                form["reply_parameters"] = json.dumps(reply)
            messages = self._call(
                "sendPhoto",
                what="telegram sendPhoto",
                retry_safe=False,
                data=form,
                files={"photo": (item.filename, item.content, item.mime)},
            )
        else:
            album = []
            files = {}
            for index, item in enumerate(media):
                entry: dict[str, Any] = {"type": "photo", "media": f"attach://photo{index}"}
                if index == 0 and text:
                    entry["caption"] = text
                album.append(entry)
                files[f"photo{index}"] = (item.filename, item.content, item.mime)
            form = {"chat_id": self._chat_id, "media": json.dumps(album)}
            if reply:
                form["reply_parameters"] = json.dumps(reply)
            messages = self._call(
                "sendMediaGroup", what="telegram sendMediaGroup", retry_safe=False, data=form, files=files
            )
        if isinstance(messages, dict):
            messages = [messages]
        ids = [str(message["message_id"]) for message in messages if isinstance(message, dict)]
        if not ids:
            raise PermanentError("telegram: the answer had no message id")
        return PublishResult(
            external_id=",".join(ids), external_url=self._message_url(ids[0]), http_status=200
        )

    def _reply_parameters(self, payload: Payload) -> dict[str, Any] | None:
        if not payload.in_reply_to:
            return None
        try:
            message_id = int(payload.in_reply_to.split(",")[0])
        except ValueError:
            raise PermanentError(
                f"telegram: cannot reply to {payload.in_reply_to!r}, not a message id"
            ) from None
        return {"message_id": message_id, "allow_sending_without_reply": True}

    def _message_url(self, message_id: str) -> str:
        chat = self._chat_id
        username = str(self.config.get("channel_username") or "").lstrip("@")
        if chat.startswith("@"):
            username = chat[1:]
        if username:
            return f"https://t.me/{username}/{message_id}"
        if chat.startswith("-100"):
            return f"https://t.me/c/{chat[4:]}/{message_id}"
        return ""

    # --- withdraw and health -----------------------------------------------------------------
    def withdraw(self, external_id: str) -> None:
        failures: list[AdapterError] = []
        for message_id in [part for part in external_id.split(",") if part]:
            try:
                self._call(
                    "deleteMessage",
                    what="telegram deleteMessage",
                    retry_safe=True,
                    json={"chat_id": self._chat_id, "message_id": int(message_id)},
                )
            except PermanentError as exc:
                if "message to delete not found" in exc.platform_message:
                    continue  # already gone
                if "message can't be deleted" in exc.platform_message.lower():
                    too_old = TooOldToDelete(f"telegram deleteMessage: {TOO_OLD_TO_DELETE}", http_status=exc.http_status)
                    too_old.platform_message = exc.platform_message
                    failures.append(too_old)
                    continue
                failures.append(exc)
            except TransientError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def check(self) -> HealthResult:
        try:
            self._call("getMe", what="telegram getMe", retry_safe=True)
        except AuthExpiredError as exc:
            return HealthResult(state="auth_expired", detail=exc.detail)
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        return HealthResult(state="ok", detail="the Bot API accepted the bot token")

    # --- the one call ------------------------------------------------------------------------
    def _call(self, method: str, *, what: str, retry_safe: bool, **kwargs: Any) -> Any:
        response = send(
            self.http,
            "POST",
            self._url(method),
            what=what,
            retry_safe=retry_safe,
            redact=self.redact,
            **kwargs,
        )
        body = json_or_empty(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("ok"):
            return body.get("result")
        raise self._error(response, body, what=what, retry_safe=retry_safe)

    def _error(self, response: httpx.Response, body: Any, *, what: str, retry_safe: bool) -> AdapterError:
        body = body if isinstance(body, dict) else {}
        description = str(body.get("description") or response.reason_phrase)
        parameters = body.get("parameters") or {}
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        status = response.status_code
        if status == 200:  # 200 with ok: false does not happen in the Bot API, but be strict
            error = PermanentError(f"{what}: the Bot API answered without ok", http_status=status)
            error.platform_message = self.redact(short(description))
            return error
        if status == 404 and description == "Not Found":
            # Telegram answers 404 for a token it does not know (and for unknown methods).
            return AuthExpiredError(self.redact(f"{what}: bot token not recognised"), http_status=status)
        return error_for_status(
            response,
            what=what,
            detail=short(description),
            redact=self.redact,
            retry_safe=retry_safe,
            retry_after=float(retry_after) if retry_after is not None else None,
            explain=_explain(description),
        )


# Bot API errors we recognise, by a phrase of their description, with our own sentence for them:
# error details never quote the platform's text.
_KNOWN_ERRORS = (
    ("chat not found", "the chat was not found (check chat_id)"),
    ("not enough rights", "the bot may not post in this chat"),
    ("bot was kicked", "the bot was removed from the chat"),
    ("bot is not a member", "the bot is not a member of the chat"),
    ("message is too long", "the text is too long for Telegram"),
    ("message to delete not found", "the message is already gone"),
    ("message can't be deleted", TOO_OLD_TO_DELETE),
    ("wrong file identifier", "Telegram could not read an image"),
)


def composed_text(payload: Payload) -> str:
    """The message ``text`` (or the photo ``caption``) exactly as ``publish`` sends it."""
    return with_hashtags(payload.text, payload.hashtags)


def _explain(description: str) -> str:
    lowered = description.lower()
    return next((sentence for phrase, sentence in _KNOWN_ERRORS if phrase in lowered), "")
