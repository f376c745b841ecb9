"""Equity of reach: is every community answered as well as the rest?

For each segment (and, the same way, each language, channel or phase) the response rate and
the median time to first response are compared with the **overall** figures of the same
scope. A group is flagged *under-served* when either holds:

* **answered less**: at least :data:`MIN_NEEDING` of its replies needed an answer, its response
  rate is at least :data:`RATE_GAP` (15 percentage points) below the overall rate, *and* the gap
  is not plausibly chance: the upper end of the 95% Wilson interval of its rate is still below
  the overall rate (so 2 unanswered out of 3 is not flagged, 30 out of 45 is);
* **answered slower**: at least :data:`MIN_ANSWERED` of its replies were answered, and its median
  time to first response is more than :data:`TIME_RATIO` (2x) the overall median and at least
  :data:`TIME_MIN_GAP_SECONDS` (10 minutes) longer.

The sentence shown is, for example, "Farsi speakers: 41% answered, against 88% overall".
Segments come from the answered message's targets; replies to no segmented message are shown
as their own row ("Not linked to a segment") so nothing is hidden, and are never flagged.
"""

from __future__ import annotations

from typing import Any

from django.conf.locale import LANG_INFO
from django.db.models import F, QuerySet
from django.utils.translation import gettext, gettext_noop

from accounts.languages import english_name
from campaigns.models import Channel, Segment
from engage.metrics.format import duration, percent
from engage.metrics.response import counts_aggregates, response_times, shape_counts
from engage.metrics.scope import phase_expression
from engage.metrics.sql import wilson_interval

MIN_NEEDING = 10
RATE_GAP = 0.15
MIN_ANSWERED = 10
TIME_RATIO = 2.0
TIME_MIN_GAP_SECONDS = 600

LANGUAGE_NAMES = {"fa": gettext_noop("Farsi"), "": gettext_noop("Language not detected"),
                  "unknown": gettext_noop("Language not detected")}
DIMENSIONS = ("segment", "language", "channel", "phase")


def language_name(code: str) -> str:
    code = code or ""
    if code in LANGUAGE_NAMES:
        return gettext(LANGUAGE_NAMES[code])  # noqa: INT001
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    name = info.get("name") or english_name(code)
    return gettext(name) if name else name  # noqa: INT001 - Django's catalogs name the languages it knows


def _group_expression(dimension: str) -> Any:
    if dimension == "segment":
        return F("message__segments")
    if dimension == "language":
        return F("language")
    if dimension == "channel":
        return F("channel_id")
    if dimension == "phase":
        return phase_expression()
    raise ValueError(f"Unknown dimension {dimension!r}")


def _labels(dimension: str, keys: list[Any]) -> dict[Any, str]:
    if dimension == "segment":
        labels: dict[Any, str] = dict(Segment.objects.filter(pk__in=[k for k in keys if k is not None])
                                      .values_list("pk", "name"))
        labels[None] = gettext("Not linked to a segment")
        return labels
    if dimension == "channel":
        labels = dict(Channel.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "name"))
        labels[None] = gettext("Public form")
        return labels
    if dimension == "language":
        return {k: language_name(k) for k in keys}
    return {k: gettext("No event") if k == "none" else gettext(str(k).capitalize()) for k in keys}  # noqa: INT001


def _speakers(dimension: str, label: str) -> str:
    if dimension == "language" and label != gettext(LANGUAGE_NAMES[""]):  # noqa: INT001
        return gettext("%(language)s speakers") % {"language": label}
    return label


def response_by(qs: QuerySet, dimension: str, overall: dict[str, Any], *, now: Any) -> list[dict[str, Any]]:
    """One row per group of ``dimension``, computed live: three queries."""
    group = _group_expression(dimension)
    rows = list(qs.annotate(_g=group).values("_g").annotate(**counts_aggregates(now)).order_by())
    times = response_times(qs, group=group)
    groups = [(row["_g"], shape_counts(row), times.get(row["_g"], {}).get(0.5), times.get(row["_g"], {}).get(0.9))
              for row in rows]
    return build_rows(dimension, groups, overall)


def build_rows(dimension: str, groups: list[tuple[Any, dict[str, Any], float | None, float | None]],
               overall: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with labels, the gaps against ``overall`` (a response summary) and the flags, from
    ``(key, shaped counts, median, p90)`` per group (live or from the summary table)."""
    labels = _labels(dimension, [key for key, *_rest in groups])
    overall_rate = overall.get("response_rate")
    overall_median = (overall.get("time_to_first_response") or {}).get("median_seconds")
    out = []
    for key, shaped, median, p90 in groups:
        label = labels.get(key, str(key))
        item: dict[str, Any] = {
            "key": key, "label": label, **shaped,
            "median_seconds": median, "p90_seconds": p90,
            "rate_gap": None if shaped["response_rate"] is None or overall_rate is None
            else round(shaped["response_rate"] - overall_rate, 4),
            "under_served": False, "reasons": [],
        }
        linked = not (dimension == "segment" and key is None)
        interval = wilson_interval(shaped["answered_needing"], shaped["needing_answer"])
        if (linked and overall_rate is not None and shaped["response_rate"] is not None
                and shaped["needing_answer"] >= MIN_NEEDING
                and overall_rate - shaped["response_rate"] >= RATE_GAP
                and interval is not None and interval[1] < overall_rate):
            item["reasons"].append("answered_less")
        if (linked and overall_median and median is not None and shaped["answered_needing"] >= MIN_ANSWERED
                and median > TIME_RATIO * overall_median and median - overall_median >= TIME_MIN_GAP_SECONDS):
            item["reasons"].append("answered_slower")
        if item["reasons"]:
            item["under_served"] = True
            parts = []
            if "answered_less" in item["reasons"]:
                parts.append(gettext("%(rate)s answered, against %(overall)s overall") % {
                    "rate": percent(shaped["response_rate"]), "overall": percent(overall_rate)})
            if "answered_slower" in item["reasons"]:
                parts.append(gettext("median first answer %(median)s, against %(overall)s overall") % {
                    "median": duration(median), "overall": duration(overall_median)})
            item["flag"] = f"{_speakers(dimension, label)}: " + "; ".join(parts)
        else:
            item["flag"] = ""
        out.append(item)
    out.sort(key=lambda r: (r["key"] is None or r["key"] == "none", not r["under_served"],
                            -(r["needing_answer"] or 0), str(r["label"])))
    return out


def flags(rows: list[dict[str, Any]]) -> list[str]:
    return [row["flag"] for row in rows if row["under_served"]]


def thresholds() -> dict[str, Any]:
    return {"min_needing": MIN_NEEDING, "rate_gap": RATE_GAP, "min_answered": MIN_ANSWERED,
            "time_ratio": TIME_RATIO, "time_min_gap_seconds": TIME_MIN_GAP_SECONDS,
            "confidence": "95% Wilson interval"}


def readers_by_language(team_ids: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies per language (``rows`` of :func:`response_by` for "language") against the staff who
    can read them: active people who may triage replies in ``team_ids`` and read the language
    (``User.reads_languages``), and how many of them are on duty there."""
    from accounts.models import Membership, User
    from accounts.permissions import TRIAGERS

    members = Membership.objects.filter(team_id__in=list(team_ids), role__in=sorted(TRIAGERS), user__is_active=True)
    on_duty = set(members.filter(on_duty=True).values_list("user_id", flat=True))
    staff = list(User.objects.filter(pk__in=members.values("user_id")).values_list("pk", "reads_languages"))
    out = []
    for row in rows:
        code = row["key"] or ""
        readers = [pk for pk, codes in staff if code and code in (codes or [])]
        out.append({"key": code, "label": row["label"], "replies": row["replies"],
                    "needing_answer": row["needing_answer"], "readers": len(readers),
                    "readers_on_duty": sum(1 for pk in readers if pk in on_duty),
                    "no_reader": code not in ("", "unknown") and not readers})
    return out
