"""Once per kind: several findings of one code become one, with a count and what was found.

"Capitals read as shouting in 3 places: “ROAD CLOSED”, “NOW”, “STAY AWAY”." reads better than
three warnings, and the officer still sees each place (quoted, cut at a word boundary; the span
is the first one). Codes whose rule already reports once (``tone.exclamations``, lengths,
readability) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.translation import gettext, ngettext

from campaigns.checker.findings import Finding, quoted

__all__ = ["group_findings"]

MAX_QUOTES = 3


def _shouting(n: int) -> str:
    return ngettext("Capitals read as shouting: %(quotes)s. Use sentence case.",
                    "Capitals read as shouting in %(n)s places: %(quotes)s. Use sentence case.", n)


def _hostile(n: int) -> str:
    return ngettext("Hostile or blaming wording: %(quotes)s. Describe the behaviour and say what people should do.",
                    "Hostile or blaming wording in %(n)s places: %(quotes)s. Describe the behaviour and say what "
                    "people should do.", n)


def _jargon(n: int) -> str:
    return ngettext("Police jargon: %(quotes)s.", "Police jargon in %(n)s places: %(quotes)s.", n)


def _personal(n: int) -> str:
    return ngettext("This looks like personal data: %(quotes)s. Publish personal data only if you must.",
                    "%(n)s pieces of what looks like personal data: %(quotes)s. Publish personal data only if "
                    "you must.", n)


def _alt_missing(n: int) -> str:
    return ngettext("An image has no alt text. Describe what it shows for people using screen readers.",
                    "%(n)s images have no alt text. Describe what each shows for people using screen readers.", n)


def _alt_short(n: int) -> str:
    return ngettext("The alt text of an image says little. Describe what the image shows.",
                    "The alt texts of %(n)s images say little. Describe what each image shows.", n)


_TEMPLATES: dict[str, Callable[[int], str]] = {
    "tone.shouting": _shouting, "tone.hostile": _hostile, "tone.jargon": _jargon, "pii": _personal,
    "media.alt_missing": _alt_missing, "media.alt_short": _alt_short,
}


def _template(code: str) -> Callable[[int], str] | None:
    return _TEMPLATES.get(code) or _TEMPLATES.get(code.split(".")[0])


def _quote(finding: Finding, body: str) -> str:
    if finding.span is None:
        return ""
    text = f"“{quoted(body[finding.span[0]:finding.span[1]])}”"
    if finding.hint:
        text += " " + gettext("(try “%(plain)s”)") % {"plain": finding.hint}
    return text


def _quotes(findings: Sequence[Finding], body: str) -> str:
    shown = list(dict.fromkeys(q for q in (_quote(f, body) for f in findings) if q))
    listed = ", ".join(shown[:MAX_QUOTES])
    more = len(shown) - MAX_QUOTES
    if more > 0:
        listed += " " + ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more}
    return listed


def group_findings(findings: Sequence[Finding], *, body: str) -> list[Finding]:
    """``findings`` with each code once, in the order of its first finding."""
    codes: dict[str, list[Finding]] = {}
    for finding in findings:
        codes.setdefault(finding.code, []).append(finding)
    out = []
    for code, members in codes.items():
        template = _template(code)
        if template is None:
            out.extend(members)
            continue
        if len(members) == 1:
            out.append(members[0])
            continue
        n = sum(f.count for f in members)
        message = template(n) % {"n": n, "quotes": _quotes(members, body)}
        out.append(Finding(code=code, severity=members[0].severity, message=message, span=members[0].span, count=n))
    return out
