"""``length.<channel>``: the post does not fit on a chosen channel.

The post is counted as it leaves: on X, Mastodon, Facebook and Telegram the message's hashtags are
added to the text (``platforms.hashtags.with_hashtags``), so they count too. The finding says the
count plainly, in characters and text messages (never the platform's unit).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext, ngettext

from campaigns.checker.findings import CheckerConfig, Finding
from platforms.counting import LengthCount, count_for, first_overflow_index
from platforms.hashtags import HASHTAG_KINDS, with_hashtags
from platforms.sms.counting import SMS_MAX_BODY, SMS_MAX_SEGMENTS, non_gsm_characters

__all__ = ["check_length"]

_CHANNEL_NAMES = {
    "x": "X",
    "mastodon": "Mastodon",
    "telegram": "Telegram",
    "facebook": "Facebook",
}


def check_length(
    *, body: str, channels: Sequence[str], caption: bool, config: CheckerConfig, hashtags: Sequence[str] = ()
) -> list[Finding]:
    findings = []
    for kind in dict.fromkeys(channels):
        code = f"length.{kind}"
        if not config.is_enabled(code):
            continue
        text = with_hashtags(body, hashtags) if kind in HASHTAG_KINDS else body
        count = count_for(kind, text, caption=caption, max_sms_segments=config.max_sms_segments)
        if not count.over:
            continue
        cut = first_overflow_index(kind, text, caption=caption, max_sms_segments=config.max_sms_segments)
        findings.append(
            Finding(
                code=code,
                severity="error",
                message=_message(kind, text, count, caption=caption, tagged=text != body),
                # The part of the officer's text that does not fit (none when only the hashtags do not).
                span=None if cut is None or cut >= len(body) else (cut, len(body)),
            )
        )
    return findings


def _message(kind: str, text: str, count: LengthCount, *, caption: bool, tagged: bool) -> str:
    if kind == "sms":
        message = ngettext(
            "Too long for a text message: %(used)s characters make %(n)s text message; the limit is %(most)s.",
            "Too long for a text message: %(used)s characters make %(n)s text messages; the limit is %(most)s.",
            count.segments or 0) % {"used": count.used, "n": count.segments, "most": count.max_segments}
        if count.max_segments == SMS_MAX_SEGMENTS:
            message += " " + gettext("Twilio refuses a message over %(body)s characters, so no message is "
                                     "longer than %(most)s text messages.") % {"body": f"{SMS_MAX_BODY:,}",
                                                                              "most": SMS_MAX_SEGMENTS}
        forcing = non_gsm_characters(text)
        if forcing:
            message += " " + gettext("These characters are outside the basic text-message alphabet, so each text "
                                     "message holds 67 characters instead of 153: %(chars)s") % {
                                         "chars": " ".join(forcing[:10])}
        return message
    if kind == "telegram" and caption:
        message = gettext("Too long for a Telegram image caption: %(used)s of %(limit)s characters.")
    else:
        message = gettext("Too long for %(platform)s: %(used)s of %(limit)s characters.")
    message = message % {"platform": _CHANNEL_NAMES.get(kind, kind), "used": count.used, "limit": count.limit}
    if kind == "x":
        message += " " + gettext("Links count as 23 characters and emoji as 2.")
    elif kind == "mastodon":
        message += " " + gettext("Links count as 23 characters.")
    if tagged:
        message += " " + gettext("The count includes the hashtags added at the end.")
    return message
