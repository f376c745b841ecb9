"""``check_message``: run every enabled rule over a message and return the findings."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from campaigns.checker.alt_text import check_alt_text
from campaigns.checker.cta import has_call_to_action
from campaigns.checker.findings import CheckerConfig, Finding, ImageInfo, quoted
from campaigns.checker.grouping import group_findings
from campaigns.checker.hashtags import check_hashtags
from campaigns.checker.length import check_length
from campaigns.checker.privacy import check_personal_data
from campaigns.checker.readability import language_root, reading_ease
from campaigns.checker.tone import check_exclamations, check_hostile, check_jargon, check_shouting

__all__ = ["check_message"]

_DEFAULT_CONFIG = CheckerConfig()


def check_message(
    *,
    body: str,
    channels: Sequence[str],
    language: str = "en",
    hashtags: Sequence[str] = (),
    event_hashtags: Sequence[str] = (),
    instructive: bool = True,
    images: Sequence[ImageInfo] = (),
    caption: bool = False,
    config: CheckerConfig | None = None,
) -> list[Finding]:
    """Check one message variant. Errors first (length, alt text), then warnings.

    ``channels`` are channel kinds (``x``, ``mastodon``, ``sms``...); an unknown kind
    raises ``ValueError``. ``caption`` means the text goes out as an image caption
    (Telegram's 1024 limit). ``hashtags`` are the message's own (they go out with the post on X,
    Mastodon, Facebook and Telegram, so they count towards those lengths); ``event_hashtags`` are
    its event's, which ``hashtag.missing`` asks for. Each kind of finding comes once, with a
    count (``campaigns.checker.grouping``). English-only rules (hostile wording, jargon, call to
    action) are skipped for other languages; reading ease is skipped for languages
    without a validated formula.
    """
    config = config or _DEFAULT_CONFIG
    english = language_root(language) == "en"
    findings: list[Finding] = []

    findings += check_length(body=body, channels=channels, caption=caption, config=config, hashtags=hashtags)
    findings += check_alt_text(images=images, config=config)
    if config.is_enabled("readability"):
        findings += _check_readability(body=body, language=language, config=config)
    if config.is_enabled("tone.shouting"):
        findings += check_shouting(body=body, config=config)
    if config.is_enabled("tone.exclamations"):
        findings += check_exclamations(body=body, config=config)
    if english and config.is_enabled("tone.hostile"):
        findings += check_hostile(body=body, config=config)
    if english and config.is_enabled("tone.jargon"):
        findings += check_jargon(body=body, config=config)
    if english and instructive and config.is_enabled("cta.missing") and not has_call_to_action(body):
        findings.append(
            Finding(
                code="cta.missing",
                severity="warning",
                message=gettext("No call to action: tell people what to do, for example “Avoid the area”, "
                                "“Allow extra time” or “Call 101”."),
            )
        )
    if config.is_enabled("hashtag.missing"):
        findings += check_hashtags(body=body, hashtags=hashtags, event_hashtags=event_hashtags, channels=channels)
    if config.is_enabled("pii"):
        findings += check_personal_data(body=body, config=config)
    return group_findings(findings, body=body)


def _check_readability(*, body: str, language: str, config: CheckerConfig) -> list[Finding]:
    result = reading_ease(body, language=language, min_words=config.reading_ease_min_words)
    if result is None or result.score >= config.reading_ease_target:
        return []
    return [
        Finding(
            code="readability",
            severity="warning",
            message=gettext("Reading ease %(score)s is below the plain-language target of %(target)s. Use shorter "
                            "sentences and everyday words; the longest sentence (“%(sentence)s”) has %(words)s "
                            "words.") % {"score": f"{result.score:g}", "target": f"{config.reading_ease_target:g}",
                                         "sentence": quoted(body[result.longest_sentence[0]:result.longest_sentence[1]]),
                                         "words": result.longest_sentence_words},
            span=result.longest_sentence,
        )
    ]
