"""Facebook Graph API versions: when each was released and until when Meta keeps it.

No Django here: the sandbox uses this table too. Source: Meta's "Versions" changelog
(https://developers.facebook.com/docs/graph-api/changelog/versions/, read on 4 December 2026;
v25.0 and earlier with their published end dates) and the "Introducing Graph API v27.0" post of
4 November 2026. Meta's versioning policy
(https://developers.facebook.com/docs/graph-api/guides/versioning) keeps a version "for at least two
years" and ends it two years after a later version's release; an end date is published once the
next version is out, so the newest versions here have none yet (``None``). A call to a version
past its end is answered by the oldest version still available (the policy again), which may
behave differently: hence the warnings before the end (``campaigns.services.health`` and the
``campaigns.W001`` system check).

Add a row when Meta releases a version, and fill in end dates as Meta publishes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

VERSION_FORMAT = re.compile(r"^v\d{1,3}\.\d{1,2}$")
SOURCE = "https://developers.facebook.com/docs/graph-api/changelog/versions/ (read 4 December 2026)"
# The version Engage is set up for (ENGAGE_FACEBOOK_GRAPH_VERSION's default): the newest whose end
# date Meta has published, so that the warnings have a date to count down to.
CURRENT = "v25.0"


@dataclass(frozen=True)
class GraphVersion:
    name: str
    released: date
    available_until: date | None  # None: not published yet


GRAPH_VERSIONS: dict[str, GraphVersion] = {
    version.name: version
    for version in (
        GraphVersion("v27.0", date(2026, 11, 4), None),
        GraphVersion("v26.0", date(2026, 7, 29), None),  # ends two years after v27.0 once Meta says so
        GraphVersion("v25.0", date(2026, 2, 18), date(2028, 7, 29)),
        GraphVersion("v24.0", date(2025, 10, 8), date(2028, 2, 18)),
        GraphVersion("v23.0", date(2025, 5, 29), date(2027, 10, 8)),
        GraphVersion("v22.0", date(2025, 1, 21), date(2027, 5, 20)),
        GraphVersion("v21.0", date(2024, 10, 2), date(2027, 1, 21)),
        GraphVersion("v20.0", date(2024, 5, 21), date(2026, 9, 24)),
        GraphVersion("v19.0", date(2024, 1, 23), date(2026, 5, 21)),
        GraphVersion("v18.0", date(2023, 9, 12), date(2026, 1, 26)),
        GraphVersion("v17.0", date(2023, 5, 23), date(2025, 9, 12)),
        GraphVersion("v16.0", date(2023, 2, 2), date(2025, 5, 14)),
    )
}


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def format_problem(version: str) -> str | None:
    """Why ``version`` is not written as Graph names versions (``v25.0``), or None."""
    if not VERSION_FORMAT.match(version):
        return f"Write the version as Graph does, for example {CURRENT} (got {version[:20]!r})."
    return None


def is_available(version: str, today: date) -> bool:
    """Graph still answers ``version`` itself: it is one Engage knows, not past its end."""
    known = GRAPH_VERSIONS.get(version)
    return known is not None and known.released <= today and (
        known.available_until is None or today < known.available_until)


def oldest_available(today: date) -> str:
    """The version Graph uses for a call to one past its end."""
    live = [v for v in GRAPH_VERSIONS.values() if is_available(v.name, today)]
    return min(live, key=lambda v: v.released).name if live else CURRENT


def version_warning(version: str, today: date, *, warn_days: int) -> str | None:
    """A sentence for the administrators when ``version`` ends within ``warn_days`` days, has
    ended, or is one Engage does not know; None when all is well."""
    known = GRAPH_VERSIONS.get(version)
    if known is None:
        return (f"Facebook Graph API {version} is not a version Engage knows the end of life of; "
                f"check it against Meta's changelog or use {CURRENT}.")
    if known.available_until is None:
        return None
    left = (known.available_until - today).days
    if left <= 0:
        return (f"Facebook Graph API {version} reached its end of life on {_day(known.available_until)}: "
                f"Facebook answers such calls with the oldest version it still offers, which may behave "
                f"differently. Set {CURRENT} or newer.")
    if left <= warn_days:
        return (f"Facebook Graph API {version} reaches its end of life on {_day(known.available_until)} "
                f"(in {left} day{'s' if left != 1 else ''}). Set {CURRENT} or newer before then.")
    return None
