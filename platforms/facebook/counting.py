"""Facebook's length: 63,206 characters (code points) for a Page post."""

from __future__ import annotations

from typing import Final

from platforms.textcount import LengthCount

__all__ = ["FACEBOOK_LIMIT", "count"]

FACEBOOK_LIMIT: Final = 63206


def count(text: str) -> LengthCount:
    return LengthCount(used=len(text), limit=FACEBOOK_LIMIT, unit="characters")
