"""User text on the way in (sanitise) and on the way out (escape, linkify).

Text is stored as plain text: tags removed by bleach with an empty allowlist, control
characters dropped, Unicode normalised. Templates escape it on the way out; the only
markup ever added is by :func:`linkify`, which escapes first and then adds links with
``rel="nofollow noopener"`` for http(s) URLs only.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata

import bleach
from bleach.linkifier import Linker
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# C0/C1 controls except tab and newline, plus bidi overrides that can disguise text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What an HTML parser would take for the start of a tag, a comment or a declaration.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def sanitize_text(text: str, *, max_length: int | None = None) -> str:
    """Plain text, safe to store: no tags, no control characters, NFC, trimmed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    # Strip tags (and comments) with an empty allowlist, then undo the entity escaping bleach
    # adds: we store plain text and escape it when rendering. Unescaping can make new tags
    # ("&lt;script&gt;", or "<<script>script>" once the inner tag is stripped), so repeat until
    # nothing changes; whatever still looks like a tag after a few rounds loses its "<".
    cleaned = text
    for _ in range(4):
        previous = cleaned
        cleaned = html.unescape(bleach.clean(cleaned, tags=set(), attributes={}, strip=True, strip_comments=True))
        if cleaned == previous:
            break
    else:
        cleaned = _TAG_START.sub("", cleaned)
    cleaned = cleaned.strip()
    if max_length is not None:
        cleaned = cleaned[:max_length]
    return cleaned


def _link_attrs(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href.lower().startswith(("http://", "https://", "mailto:")):
        return None  # drop anything that is not a plain web or mail link
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


# One Linker per thread: a Linker keeps its html5lib parser's state on itself, so one shared by the
# threads of a gthread web worker mixed two renders (tests/core/test_linkify_threads.py).
_linkers = threading.local()


def _linker() -> Linker:
    linker = getattr(_linkers, "linker", None)
    if linker is None:
        linker = _linkers.linker = Linker(callbacks=[_link_attrs], skip_tags={"pre", "code"}, parse_email=False)
    return linker


def linkify(text: str) -> SafeString:
    """Escape plain text and turn http(s) URLs into links with rel=nofollow noopener."""
    escaped = escape(text or "")
    linked = _linker().linkify(str(escaped))
    # Belt and braces: whatever linkify produced, only <a href rel> survives.
    safe = bleach.clean(linked, tags={"a"}, attributes={"a": ["href", "rel"]}, protocols={"http", "https", "mailto"})
    return mark_safe(safe)  # noqa: S308 - escaped, linkified and re-cleaned just above
