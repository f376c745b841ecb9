"""A post as its platform will show it: the text each adapter sends, and what surrounds it.

:func:`post_for` is what the desk's previews show (``campaigns.previews``). It calls the same
functions the adapters call when they publish, so a preview is what leaves:

- X, Mastodon, Facebook, Telegram: the adapter's ``composed_text`` (the text, then the message's
  hashtags it lacks; ``platforms.hashtags``); Facebook and Telegram show the message's link as a
  card when the post has no image (Telegram unless the channel turned ``link_preview`` off);
- SMS: the text, split into the parts the network sends (``platforms.sms.counting.sms_parts``);
- email: ``email_subject`` and ``email_text`` (the text, the public link, the unsubscribe line);
- partner webhook: the title, the text and the link it posts;
- public pages: the text (the news page adds the title, date and link around it).

Each post is counted by the platform's own rules (``platforms.counting``) on the text as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from platforms import counting
from platforms.base import Payload
from platforms.email.adapter import email_subject, email_text
from platforms.facebook.adapter import composed_text as facebook_text
from platforms.mastodon.adapter import composed_text as mastodon_text
from platforms.sms.adapter import composed_text as sms_text
from platforms.sms.counting import DEFAULT_MAX_SMS_SEGMENTS, SMS_MAX_SEGMENTS, sms_parts
from platforms.telegram.adapter import composed_text as telegram_text
from platforms.textcount import LengthCount
from platforms.x.adapter import composed_text as x_text

__all__ = ["Post", "post_for"]


@dataclass(frozen=True)
class Post:
    """One post as the platform shows it. ``parts`` are the SMS segments; ``link`` a link card."""

    kind: str
    text: str
    count: LengthCount
    subject: str = ""
    link: str = ""
    parts: tuple[str, ...] = ()


def sms_max_segments(config: Mapping[str, Any] | None) -> int:
    """The channel's most SMS segments (config ``max_segments``, as the SMS adapter reads it)."""
    try:
        wanted = int((config or {}).get("max_segments", DEFAULT_MAX_SMS_SEGMENTS))
    except (TypeError, ValueError):
        wanted = DEFAULT_MAX_SMS_SEGMENTS
    return max(1, min(wanted, SMS_MAX_SEGMENTS))


def post_for(kind: str, payload: Payload, *, config: Mapping[str, Any] | None = None) -> Post:
    """The post ``payload`` becomes on a channel of ``kind`` (with the channel's ``config``)."""
    config = config or {}
    caption = bool(payload.media)
    if kind in ("x", "mastodon", "facebook", "telegram"):
        text = {"x": x_text, "mastodon": mastodon_text, "facebook": facebook_text,
                "telegram": telegram_text}[kind](payload)
        link = ""
        if kind == "facebook" and not caption:
            link = payload.link
        if kind == "telegram" and not caption and config.get("link_preview", True):
            link = payload.link
        return Post(kind=kind, text=text, link=link, count=counting.count_for(kind, text, caption=caption))
    if kind == "sms":
        text = sms_text(payload)
        return Post(kind=kind, text=text, parts=tuple(sms_parts(text)),
                    count=counting.count_for(kind, text, max_sms_segments=sms_max_segments(config)))
    if kind == "email":
        text = email_text(payload, str(config.get("unsubscribe_url") or ""))
        return Post(kind=kind, text=text, subject=email_subject(payload),
                    count=counting.count_for(kind, payload.text))
    if kind == "webhook":
        return Post(kind=kind, text=payload.text, subject=payload.subject, link=payload.link,
                    count=counting.count_for(kind, payload.text))
    if kind == "public":
        return Post(kind=kind, text=payload.text, link=payload.link, count=counting.count_for(kind, payload.text))
    raise ValueError(f"Unknown channel kind: {kind!r}")
