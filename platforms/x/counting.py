"""X's length: twitter-text v3 weighted length, limit 280.

The text is NFC-normalised; code points in 0-4351, 8192-8205, 8208-8223 and 8242-8247 weigh 1,
everything else weighs 2; an emoji sequence (ZWJ sequences, flags, skin tones, keycaps) weighs 2
in all; every URL weighs 23 whatever its length. URLs are found with a scheme (``https://``),
``www.``, or a bare domain on a common top-level domain (``police.uk/events``). twitter-text's
full TLD list is not copied.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from platforms.textcount import LengthCount, clusters, url_spans

__all__ = ["X_LIMIT", "X_URL_WEIGHT", "count", "x_weighted_length"]

X_LIMIT: Final = 280
X_URL_WEIGHT: Final = 23

_X_TLDS: Final = (
    "com|net|org|gov|edu|int|info|biz|io|co|uk|eu|us|ca|au|nz|ie|de|fr|nl|be|es|it|pt|pl|ch|at|"
    "se|no|dk|fi|police|app|dev|me|tv|ly|gl|fm|social|news|online|site|scot|wales|cymru|london"
)
_X_URL_RE: Final = re.compile(
    rf"""(?<![\w@.\-/])
        (?:https?://[^\s<>"]+
          |www\.[^\s<>"]+
          |(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_X_TLDS})(?![\w\-@])(?:/[^\s<>"]*)?
        )""",
    re.IGNORECASE | re.VERBOSE,
)
_X_LIGHT_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_PICTOGRAPHIC_RANGES: Final = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF))


def _x_code_point_weight(cp: int) -> int:
    return 1 if any(low <= cp <= high for low, high in _X_LIGHT_RANGES) else 2


def _is_emoji_cluster(cluster: str) -> bool:
    first = ord(cluster[0])
    return (
        any(low <= first <= high for low, high in _PICTOGRAPHIC_RANGES)
        or "\ufe0f" in cluster
        or "\u20e3" in cluster
    )


def _x_weight(text: str) -> int:
    if text.isascii():
        return len(text)
    weight = 0
    for cluster in clusters(text):
        if _is_emoji_cluster(cluster):
            weight += 2
        else:
            weight += sum(_x_code_point_weight(ord(ch)) for ch in cluster)
    return weight


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (the number X compares with 280)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in url_spans(text, _X_URL_RE):
        total += _x_weight(text[position:start]) + X_URL_WEIGHT
        position = end
    return total + _x_weight(text[position:])


def count(text: str) -> LengthCount:
    return LengthCount(used=x_weighted_length(text), limit=X_LIMIT, unit="weighted characters")
