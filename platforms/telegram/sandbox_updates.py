"""Telegram updates the sandbox serves (``getUpdates``): citizens answering our channel posts.

Shapes as in Bot API 10.1 (``PaulSonOfLars/telegram-bot-api-spec`` ``api.json``: ``Update``,
``Message``, ``ExternalReplyInfo``, ``MessageOriginChannel``). Each kind is one way a reply (or
something that is not one) reaches a bot that administers our channel and its discussion group:

==========================  ==============================================================================
kind                        the update
==========================  ==============================================================================
``reply``                   a person answers our post in the discussion group: ``message`` whose
                            ``reply_to_message`` is the automatic forward of the post
                            (``is_automatic_forward``, ``forward_origin`` of type ``channel``)
``reply_as_channel``        the same, written on behalf of another channel: ``from`` is the placeholder
                            ``Channel_Bot`` (``is_bot``: true), the author is ``sender_chat``
``reply_as_anonymous_admin``the same by an anonymous group administrator: ``from`` is
                            ``GroupAnonymousBot``, ``sender_chat`` the group itself
``reply_from_bot``          a genuine bot writing in the group (no ``sender_chat``)
``channel_post``            staff posting in our own channel: ``channel_post`` whose ``chat`` and
                            ``sender_chat`` are the channel
``external_reply``          a person in another group quotes our post: ``message`` with
                            ``external_reply`` (``chat`` and ``message_id`` of the post, ``origin``)
==========================  ==============================================================================

``Message.from``: "For backward compatibility, if the message was sent on behalf of a chat, the
field contains a fake sender user in non-channel chats." ``Message.sender_chat``: "the supergroup
itself for messages sent by its anonymous administrators or a linked channel for messages
automatically forwarded to the channel's discussion group".
"""

from __future__ import annotations

import time
from typing import Any

from platforms.sandbox.core import SandboxState

KINDS = ("reply", "reply_as_channel", "reply_as_anonymous_admin", "reply_from_bot", "channel_post", "external_reply")

# The placeholder users Telegram puts in ``from`` for messages sent on behalf of a chat.
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
CITIZEN = {"id": 5550001, "is_bot": False, "first_name": "Amira", "last_name": "K", "username": "amira_k",
           "language_code": "en"}
OTHER_BOT = {"id": 7000001, "is_bot": True, "first_name": "Helper", "username": "some_helper_bot"}
OTHER_CHANNEL = {"id": -1009000000001, "type": "channel", "title": "Neighbourhood news", "username": "hood_news"}
OTHER_GROUP = {"id": -1009000000002, "type": "supergroup", "title": "Residents"}


def _discussion_group(channel: dict[str, Any]) -> dict[str, Any]:
    return {"id": channel["id"] - 1, "type": "supergroup", "title": f"{channel.get('title', 'Channel')} chat"}


def build_update(state: SandboxState, *, kind: str, text: str, post: str = "", chat: str = "") -> dict[str, Any]:
    """Queue one update of ``kind`` for ``getUpdates`` and return it.

    ``post`` is the message id of one of our posts the reply answers (required for the replies);
    ``chat`` the channel (``@name`` or id; default: the sandbox's default chat).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(text, str) or not text:
        raise ValueError("text is required")
    with state.lock:
        channel = state.accounts.telegram_chats.get(chat or state.credentials.telegram_chat)
        if channel is None:
            raise ValueError(f"unknown chat {chat!r}")
        now = int(time.time())
        message_id = 100_000 + state.next_id()
        post_date = now
        if kind != "channel_post":
            record = _post(state, channel["id"], str(post))
            if record is None:
                raise ValueError(f"post {post!r} is not a message of ours in {channel.get('title')}")
            post_date = int(record.data["messages"][0]["date"])
        group = _discussion_group(channel)
        origin = {"type": "channel", "chat": channel, "message_id": int(post or 0), "date": post_date}
        automatic_forward = {"message_id": message_id - 1, "date": post_date, "chat": group, "sender_chat": channel,
                             "is_automatic_forward": True, "forward_origin": origin, "text": "(our post)"}
        message: dict[str, Any] = {"message_id": message_id, "date": now, "chat": group, "text": text}
        key = "message"
        if kind == "reply":
            message.update({"from": CITIZEN, "reply_to_message": automatic_forward})
        elif kind == "reply_as_channel":
            message.update({"from": CHANNEL_BOT, "sender_chat": OTHER_CHANNEL, "reply_to_message": automatic_forward})
        elif kind == "reply_as_anonymous_admin":
            message.update({"from": GROUP_ANONYMOUS_BOT, "sender_chat": group, "author_signature": "Moderator",
                            "reply_to_message": automatic_forward})
        elif kind == "reply_from_bot":
            message.update({"from": OTHER_BOT, "reply_to_message": automatic_forward})
        elif kind == "channel_post":
            key = "channel_post"
            message.update({"chat": channel, "sender_chat": channel, "author_signature": "Press office"})
        else:  # external_reply
            message.update({"chat": OTHER_GROUP, "from": CITIZEN,
                            "external_reply": {"origin": origin, "chat": channel, "message_id": int(post)}})
        update = {"update_id": 500_000 + state.next_id(), key: message}
        state.telegram_updates.append(update)
        return update


def _post(state: SandboxState, chat_id: int, message_id: str) -> Any:
    for record in state.posts("telegram"):
        if record.data.get("chat_id") == chat_id and message_id in [str(i) for i in record.data.get("message_ids", [])]:
            return record
    return None
