"""``media.alt_missing`` and ``media.alt_short``: images need a useful text alternative."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.translation import gettext

from campaigns.checker.findings import CheckerConfig, Finding, ImageInfo, quoted
from campaigns.checker.wordlists import GENERIC_ALT_TEXTS

__all__ = ["check_alt_text"]

_FILE_NAME_RE = re.compile(
    r"^(?:img|dsc|pxl|photo|image|screenshot)?[\w\- ]*\.(?:jpe?g|png|webp|gif|heic)$|^(?:img|dsc|pxl)[_\-]?\d+$",
    re.IGNORECASE,
)


def check_alt_text(*, images: Sequence[ImageInfo], config: CheckerConfig) -> list[Finding]:
    findings = []
    for number, image in enumerate(images, start=1):
        alt = " ".join((image.alt_text or "").split())
        if not alt:
            if config.is_enabled("media.alt_missing"):
                findings.append(
                    Finding(
                        code="media.alt_missing",
                        severity="error",
                        message=gettext("Image %(n)s has no alt text. Describe what it shows for people using "
                                        "screen readers.") % {"n": number},
                    )
                )
        elif config.is_enabled("media.alt_short") and _is_poor(alt, config.min_alt_text_length):
            findings.append(
                Finding(
                    code="media.alt_short",
                    severity="warning",
                    message=gettext("The alt text of image %(n)s (“%(alt)s”) says little. Describe what the image "
                                    "shows.") % {"n": number, "alt": quoted(alt)},
                )
            )
    return findings


def _is_poor(alt: str, min_length: int) -> bool:
    return (
        len(alt) < min_length
        or alt.lower().rstrip(".:") in GENERIC_ALT_TEXTS
        or bool(_FILE_NAME_RE.match(alt))
    )
