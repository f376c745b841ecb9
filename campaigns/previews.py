"""Per-platform previews: each text of a message as each of its channels will show it.

One builder for every page that shows previews (the editor, the message page, the review queue;
``templates/campaigns/_previews.html``). It builds the payload with the function the worker uses
(``campaigns.services.content.snapshot_payload``, from the message's live snapshot instead of the
approved one) and the post with the functions the adapters use (``platforms.compose.post_for``),
so a preview is what would leave if the message were approved as it stands.

Counts are said plainly ("148 of 280 characters", "148 of 201 characters, 3 text messages"): the
platform's unit (weighted characters, UTF-16 code units, septets) is how the number is counted,
not a word for the desk. The editor's script (``engage/static/engage/counting.js``) counts the same
way as the officer types and says it with the words of :func:`counter_words`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from campaigns.models import Channel, Message, Variant
from campaigns.services.content import message_snapshot, snapshot_payload, snapshot_variant
from platforms.base import MediaItem, Payload
from platforms.compose import Post, post_for, sms_max_segments
from platforms.sms.counting import non_gsm_characters
from platforms.textcount import LengthCount

__all__ = ["ChannelPreview", "TextPreview", "count_label", "counter_words", "editor_previews",
           "message_previews", "text_direction", "with_isolated_hashtags"]

# A hashtag in a text, as the public pages find it (engage/templatetags/public_pages.py): "#" after the
# start or a space, up to the next space; and a web address. editor.js finds the same.
_ISOLATED = re.compile(r"(?<!\S)(?:#[^\s#<>&]+|https?://\S+)")


def text_direction(language: str) -> str:
    """``rtl`` for the languages written right to left (``settings.LANGUAGES_BIDI``), else ``ltr``."""
    return "rtl" if (language or "").split("-")[0].lower() in settings.LANGUAGES_BIDI else "ltr"


def with_isolated_hashtags(text: str) -> SafeString:
    """``text`` escaped, each hashtag and web address in ``<bdi>``: "#DerbyDay" keeps its "#" in
    front, and a link reads left to right, inside right-to-left text. Line breaks stay (the
    preview's CSS keeps white space)."""
    out = []
    position = 0
    for m in _ISOLATED.finditer(text):
        out.append(str(escape(text[position:m.start()])))
        out.append(f"<bdi>{escape(m.group())}</bdi>")
        position = m.end()
    out.append(str(escape(text[position:])))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def count_label(count: LengthCount) -> str:
    """The count in plain words, in the desk's language."""
    if count.limit is None:
        return ngettext("%(n)s character", "%(n)s characters", count.used) % {"n": count.used}
    if count.segments is not None:
        return ngettext("%(used)s of %(limit)s characters, %(n)s text message",
                        "%(used)s of %(limit)s characters, %(n)s text messages",
                        count.segments) % {"used": count.used, "limit": count.limit, "n": count.segments}
    return gettext("%(used)s of %(limit)s characters") % {"used": count.used, "limit": count.limit}


# The numbers that pick each plural form of the desk's languages (English: 1, 2; Welsh: 1, 2, 3, 8),
# so that the editor's script can say a count without a plural formula of its own.
_PLURAL_SAMPLES = (1, 2, 3, 8)


def counter_words() -> dict[str, Any]:
    """The words of the live counters, in the desk's language, for ``counting.js``: each plural
    form under the number that picks it (the script maps a count to one of those numbers)."""
    def forms(singular: str, plural: str) -> dict[str, str]:
        return {str(n): ngettext(singular, plural, n) for n in _PLURAL_SAMPLES}

    return {
        "of": gettext("%(used)s of %(limit)s characters"),
        "characters": forms("%(n)s character", "%(n)s characters"),
        "sms": forms("%(used)s of %(limit)s characters, %(n)s text message",
                     "%(used)s of %(limit)s characters, %(n)s text messages"),
        "too_long": gettext("too long"),
        "ucs2": gettext("Some characters are outside the basic text-message alphabet, so each text message "
                        "holds fewer characters: %(chars)s"),
        "part": gettext("Text message %(n)s"),
        "empty": gettext("Nothing to send yet."),
        "no_problems": gettext("No problems found."),
        "error": gettext("Error:"),
        "warning": gettext("Warning:"),
    }


@dataclass
class ChannelPreview:
    """One channel's post: the channel, the post and its count in words."""

    channel: Channel
    post: Post
    payload_text: str = ""
    hidden: bool = False  # the editor: a channel of the team that is not ticked

    @property
    def html(self) -> SafeString:
        return with_isolated_hashtags(self.post.text)

    @property
    def subject_html(self) -> SafeString:
        return with_isolated_hashtags(self.post.subject)

    @property
    def parts(self) -> list[SafeString]:
        return [with_isolated_hashtags(part) for part in self.post.parts]

    @property
    def label(self) -> str:
        return count_label(self.post.count)

    @property
    def over(self) -> bool:
        return self.post.count.over

    @property
    def ucs2_characters(self) -> str:
        if self.post.kind != "sms" or self.post.count.encoding != "UCS-2":
            return ""
        return " ".join(non_gsm_characters(self.post.text)[:10])

    @property
    def tail(self) -> str:
        """What an email adds after the text (the link, the unsubscribe line): the editor's script
        puts the text being typed in front of it."""
        if self.post.kind != "email":
            return ""
        return self.post.text[len(self.payload_text.strip()):]

    @property
    def max_segments(self) -> int:
        return sms_max_segments(self.channel.config)


@dataclass
class TextPreview:
    """One text (the original or a variant) on each channel it goes out on."""

    language: str
    body: str
    variant: Variant | None = None
    channels: list[ChannelPreview] = field(default_factory=list)

    @property
    def dir(self) -> str:
        return text_direction(self.language)


def _posts(payload: Payload, channels: Iterable[Channel], *, hidden: Sequence[int] = ()) -> list[ChannelPreview]:
    return [ChannelPreview(channel=c, post=post_for(c.kind, payload, config=c.config), payload_text=payload.text,
                           hidden=c.pk in hidden) for c in channels]


def _placeholder_media(items: Sequence[Mapping[str, Any]]) -> tuple[MediaItem, ...]:
    """The images as far as the post's shape goes (a caption instead of a text): no bytes needed."""
    return tuple(MediaItem(content=b"", mime=str(i.get("mime", "")), alt_text=str(i.get("alt_text", "")),
                           filename="") for i in items)


def message_previews(message: Message) -> list[TextPreview]:
    """Every text of ``message`` on each channel it goes to (the rule of ``build_payload``: a
    variant's own channels, else all of the message's). Uses the prefetched channels, variants
    and media of ``selectors.messages_for``; no query of its own beyond them."""
    snapshot = message_snapshot(message)
    channels = {c.pk: c for c in message.channels.all()}
    previews = []
    texts: list[tuple[Variant | None, int | None]] = [(None, None)]
    texts += [(v, v.pk) for v in message.variants.all()]
    for variant, variant_id in texts:
        text_of = snapshot_variant(snapshot, variant_id)
        if text_of is None:
            continue
        explicit = [c for c in text_of.get("channels") or () if c in snapshot["channels"]]
        targets = [channels[pk] for pk in (explicit or snapshot["channels"]) if pk in channels]
        payload = snapshot_payload(snapshot=snapshot, text_of=text_of, message_id=message.pk,
                                   media=_placeholder_media(text_of.get("media") or []))
        previews.append(TextPreview(language=text_of["language"], body=text_of["body"], variant=variant,
                                    channels=_posts(payload, targets)))
    return previews


def editor_previews(*, body: str, title: str, language: str, hashtags: Sequence[str], channels: Sequence[Channel],
                    selected: Sequence[int], message: Message | None = None) -> TextPreview:
    """The editor's previews, before anything is saved: the form's text on every channel the
    officer may pick, those not ticked hidden (the script shows them when ticked)."""
    snapshot = {"title": title, "urgency": "routine", "hashtags": list(hashtags)}
    payload = snapshot_payload(snapshot=snapshot, text_of={"body": body, "language": language},
                               message_id=message.pk if message is not None else 0)
    if message is None:  # no address yet: it is given when the draft is saved
        payload = replace(payload, link=f"{settings.ENGAGE_SITE_URL}/news/…/")
    hidden = [c.pk for c in channels if c.pk not in set(selected)]
    return TextPreview(language=language, body=body, channels=_posts(payload, channels, hidden=hidden))
