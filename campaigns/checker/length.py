"""``length.<channel>``: the body does not fit on a chosen channel."""

from __future__ import annotations

from collections.abc import Sequence

from campaigns.checker.findings import CheckerConfig, Finding
from platforms.counting import LengthCount, count_for, first_overflow_index
from platforms.sms.counting import SMS_MAX_BODY, SMS_MAX_SEGMENTS, non_gsm_characters

__all__ = ["check_length"]

_CHANNEL_NAMES = {
    "x": "X",
    "mastodon": "Mastodon",
    "telegram": "Telegram",
    "sms": "SMS",
    "facebook": "Facebook",
}


def check_length(
    *, body: str, channels: Sequence[str], caption: bool, config: CheckerConfig
) -> list[Finding]:
    findings = []
    for kind in dict.fromkeys(channels):
        code = f"length.{kind}"
        if not config.is_enabled(code):
            continue
        count = count_for(kind, body, caption=caption, max_sms_segments=config.max_sms_segments)
        if not count.over:
            continue
        cut = first_overflow_index(kind, body, caption=caption, max_sms_segments=config.max_sms_segments)
        findings.append(
            Finding(
                code=code,
                severity="error",
                message=_message(kind, body, count, caption=caption),
                span=None if cut is None else (cut, len(body)),
            )
        )
    return findings


def _message(kind: str, body: str, count: LengthCount, *, caption: bool) -> str:
    name = _CHANNEL_NAMES.get(kind, kind)
    if kind == "sms":
        text = (
            f"Too long for SMS: {count.segments} segments ({count.encoding}, {count.used} {count.unit}); "
            f"the limit is {count.max_segments}."
        )
        if count.max_segments == SMS_MAX_SEGMENTS:
            text += (f" Twilio refuses a message over {SMS_MAX_BODY:,} characters, so no SMS is longer "
                     f"than {SMS_MAX_SEGMENTS} segments.")
        forcing = non_gsm_characters(body)
        if forcing:
            shown = " ".join(forcing[:10])
            text += f" These characters force the costlier UCS-2 encoding: {shown}"
        return text
    if kind == "telegram" and caption:
        name = "a Telegram image caption"
    text = f"Too long for {name}: {count.used} of {count.limit} {count.unit}."
    if kind == "x":
        text += " Links count as 23 and emoji as 2."
    elif kind == "mastodon":
        text += " Links count as 23."
    return text
