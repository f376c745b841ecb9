"""What Telegram sends us: the webhook's secret token and the ``Update`` it carries.

Pure functions, no database (see ``platforms.inbound`` for the shared types and the refusals).
:func:`read_webhook` is what ``platforms.inbound.read_webhook`` calls for a Telegram channel.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from platforms.inbound import (
    MAX_TEXT_CHARS,
    InboundItem,
    Parsed,
    WebhookRejected,
    WebhookRequest,
    check_text,
    header,
    ignored_only,
    invalid,
    load_json,
    type_name,
    unix_to_utc,
    want_dict,
    want_int,
    want_str,
)

__all__ = ["TELEGRAM_MESSAGE_KEYS", "TELEGRAM_TOKEN_HEADER", "parse_telegram_update", "read_webhook", "verify_telegram"]

TELEGRAM_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
# The update kinds the parser reads: also the allowed_updates to give setWebhook.
TELEGRAM_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


def read_webhook(
    request: WebhookRequest, *, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[Parsed, list[Any]]:
    """Verify the secret token (``secret_token``, formerly ``inbound_secret``) and read the update;
    each item's raw data is the whole update. ``config["chat_id"]`` is our own channel."""
    verify_telegram(headers=request.headers,
                    secret_token=secrets.get("secret_token") or secrets.get("inbound_secret", ""))
    items = parse_telegram_update(request.body, own_chat=str(config.get("chat_id") or ""))
    update = load_json(request.body) if items else None
    return items, [update] * len(items)


def verify_telegram(*, headers: Mapping[str, str], secret_token: str) -> None:
    """Check ``X-Telegram-Bot-Api-Secret-Token`` against the ``secret_token`` given to setWebhook.

    Telegram does not sign its updates; it echoes the secret we chose. Compared in constant time.
    """
    if not secret_token:
        raise WebhookRejected("auth.not_configured", "No Telegram secret token is configured for this channel.", 403)
    supplied = header(headers, TELEGRAM_TOKEN_HEADER)
    if not supplied:
        raise WebhookRejected("auth.missing", f"The {TELEGRAM_TOKEN_HEADER} header is missing.", 401)
    if not hmac.compare_digest(supplied.encode("utf-8"), secret_token.encode("utf-8")):
        raise WebhookRejected("auth.invalid", "The Telegram secret token does not match.", 403)


def _chat_handle(chat: dict[str, Any], where: str) -> tuple[str, str]:
    chat_id = want_int(chat.get("id"), f"{where}.id")
    username = chat.get("username")
    handle = f"@{username}" if isinstance(username, str) and username else f"tg:{chat_id}"
    title = chat.get("title")
    return handle, title if isinstance(title, str) else ""


def _telegram_author(message: dict[str, Any], where: str) -> tuple[str, str]:
    """``(handle, name)`` of whoever wrote the message.

    ``sender_chat`` comes first: a message sent on behalf of a chat (a channel writing in its
    discussion group, an anonymous group administrator) carries the real sender there and a
    placeholder bot in ``from`` ("for backward compatibility", Bot API ``Message.from``).
    """
    sender_chat = message.get("sender_chat")
    if sender_chat is not None:
        return _chat_handle(want_dict(sender_chat, f"{where}.sender_chat"), f"{where}.sender_chat")
    sender = message.get("from")
    if sender is not None:
        sender = want_dict(sender, f"{where}.from")
        user_id = want_int(sender.get("id"), f"{where}.from.id")
        username = sender.get("username")
        handle = f"@{username}" if isinstance(username, str) and username else f"tg:{user_id}"
        names = [sender.get("first_name"), sender.get("last_name")]
        return handle, " ".join(name for name in names if isinstance(name, str) and name).strip()
    return _chat_handle(want_dict(message.get("chat"), f"{where}.chat"), f"{where}.chat")


def _is_chat(chat: Any, own_chat: str) -> bool:
    """Whether ``chat`` (a Telegram ``Chat`` object) is the chat our channel config names.

    ``own_chat`` is the config's ``chat_id``: a numeric id (``-100...``) or ``@username``.
    """
    if not own_chat or not isinstance(chat, dict):
        return False
    own = own_chat.strip()
    if own.startswith("@"):
        username = chat.get("username")
        return isinstance(username, str) and username.lower() == own[1:].lower()
    chat_id = chat.get("id")
    return isinstance(chat_id, int) and not isinstance(chat_id, bool) and str(chat_id) == own


def _telegram_reply_target(message: dict[str, Any], where: str, own_chat: str = "") -> str:
    """The message id of ours being answered, as our Telegram adapter records it.

    A reply to a channel post is written in the channel's discussion group, to the copy that
    Telegram forwarded there automatically; that copy says which channel message it came from
    (``forward_origin`` since Bot API 7.0, ``forward_from_message_id`` before), and that
    channel message id is what the adapter stored as the post's ``external_id``. Otherwise
    the replied-to ``message_id`` itself.

    A reply written in another chat that quotes our post carries no ``reply_to_message`` but an
    ``external_reply`` (Bot API 7.0+, ``ExternalReplyInfo``): its ``chat`` and ``message_id``
    (or, failing those, a channel ``origin``'s) name the post; it is ours, and threaded, when
    that chat is ``own_chat``.
    """
    replied = message.get("reply_to_message")
    if replied is None:
        return _telegram_external_target(message.get("external_reply"), f"{where}.external_reply", own_chat)
    replied = want_dict(replied, f"{where}.reply_to_message")
    origin = replied.get("forward_origin")
    if isinstance(origin, dict) and origin.get("type") == "channel" and isinstance(origin.get("message_id"), int):
        return str(origin["message_id"])
    legacy = replied.get("forward_from_message_id")
    if isinstance(legacy, int) and not isinstance(legacy, bool):
        return str(legacy)
    return str(want_int(replied.get("message_id"), f"{where}.reply_to_message.message_id"))


def _telegram_external_target(external: Any, where: str, own_chat: str) -> str:
    if external is None:
        return ""
    external = want_dict(external, where)
    candidates = [(external.get("chat"), external.get("message_id"))]
    origin = external.get("origin")
    if isinstance(origin, dict) and origin.get("type") == "channel":
        candidates.append((origin.get("chat"), origin.get("message_id")))
    for chat, message_id in candidates:
        if message_id is None or not _is_chat(chat, own_chat):
            continue
        return str(want_int(message_id, f"{where}.message_id"))
    return ""


def parse_telegram_update(body: bytes, *, own_chat: str = "") -> Parsed:
    """The reply in one Telegram ``Update``, or none (with the reason in ``.ignored``).

    ``own_chat`` is the ``chat_id`` our channel posts to (``@name`` or a numeric id).

    Reads ``message``, ``edited_message``, ``channel_post`` and ``edited_channel_post``; the
    text is ``text`` or, for media, the ``caption``. Ignored, each with its reason: other update
    kinds (``telegram.not_a_message``: callback queries, reactions, member changes), messages
    without text or caption (``telegram.no_text``), messages from genuine bots, ours included
    (``telegram.bot``: ``from.is_bot`` with no ``sender_chat``; a message sent on behalf of a
    chat has a placeholder bot in ``from`` and its real author in ``sender_chat``, and is kept),
    the automatic copy of our channel post in its discussion group
    (``telegram.automatic_forward``), and posts made by our own channel
    (``telegram.own_channel``: a ``channel_post`` in ``own_chat``, or a message sent as it).

    ``provider_id`` is ``"<chat id>:<message id>"``: message ids are only unique within a chat,
    and the pair is the same however often Telegram redelivers the update (``update_id`` would
    also be stable, but does not exist for messages fetched another way). An edit is a new item
    ``"<chat id>:<message id>:edit:<edit_date>"``, so the original is kept and each edit is
    stored once. ``in_reply_to`` is the bare message id of the post answered (see
    :func:`_telegram_reply_target`). ``author_handle`` is ``@username`` or ``tg:<id>`` of the
    ``sender_chat`` when there is one, else of ``from``.
    """
    update = load_json(body)
    if not isinstance(update, dict):
        raise invalid(f"update: expected an object, got {type_name(update)}.")
    want_int(update.get("update_id"), "update.update_id")
    key = next((name for name in TELEGRAM_MESSAGE_KEYS if name in update), None)
    if key is None:
        kinds = sorted(name for name in update if name != "update_id")
        return ignored_only("telegram.not_a_message", (kinds[0] if kinds else "empty update")[:40])
    where = f"update.{key}"
    message = want_dict(update[key], where)
    chat = want_dict(message.get("chat"), f"{where}.chat")
    if key.endswith("channel_post") and _is_chat(chat, own_chat):
        return ignored_only("telegram.own_channel", f"{key} in our own channel")
    sender_chat = message.get("sender_chat")
    if message.get("is_automatic_forward") is True:
        return ignored_only("telegram.automatic_forward", "our channel post copied to its discussion group")
    if sender_chat is not None and _is_chat(sender_chat, own_chat):
        return ignored_only("telegram.own_channel", f"{key} sent as our own channel")
    sender = message.get("from")
    if sender_chat is None and isinstance(sender, dict) and sender.get("is_bot") is True:
        return ignored_only("telegram.bot", f"{key} from a bot")
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    if text is None:
        return ignored_only("telegram.no_text", f"{key} without text or caption")
    text = check_text(want_str(text, f"{where}.text", required=False, max_chars=MAX_TEXT_CHARS), f"{where}.text")
    if not text.strip():
        return ignored_only("telegram.no_text", f"{key} with blank text")
    message_id = want_int(message.get("message_id"), f"{where}.message_id")
    chat_id = want_int(chat.get("id"), f"{where}.chat.id")
    provider_id = f"{chat_id}:{message_id}"
    received_at = unix_to_utc(message.get("date"), f"{where}.date")
    if key.startswith("edited_"):
        edit_date = want_int(message.get("edit_date"), f"{where}.edit_date")
        provider_id = f"{provider_id}:edit:{edit_date}"
        received_at = unix_to_utc(edit_date, f"{where}.edit_date")
    handle, name = _telegram_author(message, where)
    return Parsed([
        InboundItem(
            provider_id=provider_id,
            author_handle=handle,
            author_name=name,
            text=text,
            in_reply_to=_telegram_reply_target(message, where, own_chat),
            received_at=received_at,
            kind="telegram",
        )
    ])
