"""Links that came from outside (a platform's answer, a person's paste) before they become an ``href``.

Only absolute ``http``/``https`` URLs with a host are links; ``javascript:``, ``data:``,
``vbscript:``, scheme-relative ``//host`` and anything with control characters or whitespace
inside are not. Browsers strip tabs and newlines from a scheme (``java\\tscript:``) and ignore
leading spaces and control characters, so the check is made on the raw value and refuses them
rather than normalising.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_LENGTH = 500
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f-\x9f\\\"'<>`]")


def safe_external_url(value: object) -> str:
    """``value`` if it is an absolute http(s) URL fit to be a link, else ``""``."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return ""
    if _UNSAFE_CHARACTERS.search(value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value
