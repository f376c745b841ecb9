"""Who wrote a reply, as little of it as each screen needs.

* :func:`author_key` normalises a handle or phone number so that one person's replies can be
  found for a subject-access request or an erasure, however the number was written
  (``07700 900123``, ``+44 7700 900123`` and ``0044 7700900123`` are one key; national numbers
  are read as UK numbers). Handles lose a leading ``@`` and case.
* :func:`author_label` is a stable pseudonym ("Person 3f9a1c") for lists: triage can see that
  three replies came from the same person without seeing who.
* :func:`mask_handle` shows the shape of a handle without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_PHONE_CHARS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"\+?\d{7,15}")
DEFAULT_COUNTRY_CODE = "44"


def author_key(handle: str) -> str:
    value = (handle or "").strip().lower()
    if not value:
        return ""
    compact = _PHONE_CHARS.sub("", value)
    if _PHONE.fullmatch(compact):
        if compact.startswith("+"):
            return compact
        if compact.startswith("00"):
            return "+" + compact[2:]
        if compact.startswith("0"):
            return f"+{DEFAULT_COUNTRY_CODE}{compact[1:]}"
        return "+" + compact
    return value.lstrip("@")[:200]


def author_label(key: str) -> str:
    if not key:
        return "Unknown person"
    digest = hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"Person {digest[:6]}"


def mask_handle(handle: str) -> str:
    if not handle:
        return ""
    return handle[:2] + "••••" if len(handle) > 4 else "••••"


def key_digest(key: str) -> str:
    """What the audit trail records instead of the handle itself."""
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()[:16]
