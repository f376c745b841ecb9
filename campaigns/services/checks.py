"""Running the message checker on a message and every variant, with the team's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns.checker import CheckerConfig, Finding, ImageInfo, check_message
from campaigns.models import Message


@dataclass(frozen=True)
class VariantFinding:
    code: str
    severity: str
    message: str
    span: tuple[int, int] | None
    variant: int | None  # None: the original body

    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "span": list(self.span) if self.span else None, "variant": self.variant}


def team_checker_config(team: Any) -> CheckerConfig:
    options = team.setting("checker", {}) if team is not None else {}
    return CheckerConfig(
        disabled=frozenset(options.get("disabled", [])),
        reading_ease_target=float(options.get("reading_ease_target", 60.0)),
        extra_jargon=dict(options.get("extra_jargon", {})),
    )


def run_checks(*, body: str, channels: list[str], language: str, hashtags: list[str] | None = None,
               event_hashtags: list[str] | None = None, instructive: bool = True,
               alt_texts: list[str] | None = None, team: Any = None) -> list[Finding]:
    images = [ImageInfo(alt_text=a) for a in (alt_texts or [])]
    return check_message(body=body, channels=channels, language=language, hashtags=hashtags or [],
                         event_hashtags=event_hashtags or [], instructive=instructive, images=images,
                         caption=bool(images), config=team_checker_config(team))


def check_message_all(message: Message) -> list[VariantFinding]:
    channels = list(message.channels.all())
    kinds = sorted({c.kind for c in channels})
    media = list(message.media.all())
    findings: list[VariantFinding] = []
    event = message.campaign.event if message.campaign.event_id else None
    event_tags = list(event.hashtags or []) if event is not None else []
    original = run_checks(body=message.body, channels=kinds, language=message.language,
                          hashtags=message.hashtags, event_hashtags=event_tags, instructive=message.instructive,
                          alt_texts=[m.alt_text for m in media if m.variant_id is None], team=message.team)
    findings += [VariantFinding(f.code, f.severity, f.message, f.span, None, f.count) for f in original]
    for variant in message.variants.prefetch_related("channels"):
        own = sorted({c.kind for c in variant.channels.all()}) or kinds
        result = run_checks(body=variant.body, channels=own, language=variant.language,
                            hashtags=message.hashtags, event_hashtags=event_tags, instructive=message.instructive,
                            alt_texts=[m.alt_text for m in media if m.variant_id == variant.pk], team=message.team)
        findings += [VariantFinding(f.code, f.severity, f.message, f.span, variant.pk, f.count) for f in result]
    return findings
