"""Every table of the dashboard and of the after-action report, as CSV or JSON. Audited.

The tables hold aggregates only (counts, rates, times) plus public text (segment, channel and
event names, rumour claims and their public explanations, what we published): no reply text and
no author. Each export is one ``metrics.exported`` event on the audit trail with the table, the
format, the filters and the number of rows (invariant 5).

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext

from accounts.audit import audit_record
from core.errors import InvalidInput
from engage.metrics.scope import Scope

Columns = list[tuple[str, str]]
FORMATS = ("csv", "json")


def _summary(data: dict[str, Any]) -> tuple[Columns, list[dict[str, Any]]]:
    s, backlog, reach = data["summary"], data["backlog"], data["reach"]
    times = s["time_to_first_response"]
    row = {
        "replies": s["replies"], "needing_answer": s["needing_answer"], "answered_needing": s["answered_needing"],
        "response_rate": s["response_rate"], "median_seconds": times["median_seconds"],
        "p90_seconds": times["p90_seconds"], "sla_met": s["sla"]["met"], "sla_missed": s["sla"]["missed"],
        "sla_pending": s["sla"]["pending"], "sla_rate": s["sla"]["rate"], "open_now": backlog["open"],
        "overdue_now": backlog["overdue"], "category_corrected_share": data["corrections"]["category_share"],
        "sentiment_corrected_share": data["corrections"]["sentiment_share"],
        "deliveries_sent": reach["sent"], "deliveries_failed": reach["failed"],
        "deliveries_withdrawn": reach["withdrawn"], "rumours_raised": data["rumours"]["raised"],
        "rumours_decided": data["rumours"]["decided"], "corrections_published": data["corrections_published"]["total"],
        "under_served": "; ".join(data["flags"]), "source": data["source"], "as_of": data["as_of"],
    }
    return [(k, k.replace("_", " ").capitalize()) for k in row], [row]


def _equity_columns() -> Columns:
    return [("label", "Group"), ("replies", "Replies"), ("needing_answer", "Needing an answer"),
            ("answered_needing", "Answered"), ("response_rate", "Response rate"), ("median_seconds", "Median seconds"),
            ("p90_seconds", "P90 seconds"), ("sla_rate", "SLA compliance"), ("rate_gap", "Gap against overall"),
            ("under_served", "Under-served"), ("flag", "Flag")]


def _equity(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "sla_rate": row["sla"]["rate"]} for row in rows]


def _sentiment(data: dict[str, Any]) -> tuple[Columns, list[dict[str, Any]]]:
    keys = ("positive", "neutral", "negative", "unknown", "unclassified")
    rows = [{"t": p["t"].astimezone(data["scope"].tz).isoformat(), **{k: p[k] for k in keys}}
            for p in data["sentiment"]["points"]]
    return [("t", f"Start of {data['sentiment']['interval']}"), *[(k, k.capitalize()) for k in keys]], rows


TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[Columns, list[dict[str, Any]]]]]] = {
    "summary": ("Headline figures", _summary),
    "response_times": ("Time to first response", lambda d: (
        [("label", "Band"), ("from_seconds", "From (s)"), ("to_seconds", "To (s)"), ("replies", "Replies")],
        d["distribution"])),
    "backlog": ("Open backlog by age", lambda d: ([("label", "Age"), ("replies", "Open replies")],
                                                  d["backlog"]["by_age"])),
    "categories": ("Volume by category", lambda d: (
        [("category", "Category"), ("label", "Label"), ("replies", "Replies"), ("answered", "Answered"),
         ("needs_answer", "Needs an answer")], d["categories"])),
    "sentiment": ("Sentiment over time", _sentiment),
    "segments": ("Equity by segment", lambda d: (_equity_columns(), _equity(d["segments"]))),
    "languages": ("Equity by language", lambda d: (_equity_columns(), _equity(d["languages"]))),
    "channels": ("Deliveries per channel", lambda d: (
        [("channel", "Channel"), ("kind", "Kind"), ("total", "Deliveries"), ("sent", "Sent"), ("failed", "Failed"),
         ("withdrawn", "Withdrawn"), ("unconfirmed", "Unconfirmed"), ("skipped", "Skipped"), ("waiting", "Waiting"),
         ("replies", "Replies to posts"), ("replies_per_post", "Replies per post"),
         ("views", "Views (platform)"), ("shares", "Shares (platform)"), ("likes", "Likes (platform)"),
         ("platform_replies", "Replies (platform)"), ("posts_measured", "Posts measured"),
         ("stats_fetched_at", "Platform figures as of")], d["channels"])),
    "rumours": ("Rumours", lambda d: (
        [("event", "Event"), ("claim", "Claim"), ("status", "Status"), ("raised_at", "Raised"),
         ("published_at", "Decided"), ("explanation", "Explanation")], d.get("rumour_list", []))),
}
REPORT_TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[Columns, list[dict[str, Any]]]]]] = {
    "timeline": ("What was published and when", lambda d: (
        [("published_at", "Published"), ("phase", "Phase"), ("title", "Message"), ("urgency", "Urgency"),
         ("segments", "Segments"), ("sent", "Deliveries sent"), ("failed", "Failed"), ("withdrawn", "Withdrawn"),
         ("replies", "Replies")], d["timeline"])),
    "phases": ("Before, during and after", lambda d: (
        [("label", "Phase"), ("replies", "Replies"), ("needing_answer", "Needing an answer"),
         ("response_rate", "Response rate"), ("median_seconds", "Median seconds"), ("positive", "Positive"),
         ("neutral", "Neutral"), ("negative", "Negative"), ("unknown", "Unknown"), ("net", "Net sentiment")],
        d["phases"])),
}
ALL_TABLES = {**TABLES, **REPORT_TABLES}


def table(data: dict[str, Any], name: str) -> tuple[str, Columns, list[dict[str, Any]]]:
    if name not in ALL_TABLES:
        raise InvalidInput(gettext("Unknown table."),
                           fields={"table": [f"Choose one of {', '.join(ALL_TABLES)}."]})
    title, build = ALL_TABLES[name]
    if name in REPORT_TABLES and name not in data:
        raise InvalidInput(gettext("This table belongs to an event's after-action report: give ?event=."),
                           fields={"event": ["Required for this table."]})
    columns, rows = build(data)
    return title, columns, rows


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    return value


def render(name: str, title: str, columns: Columns, rows: list[dict[str, Any]], fmt: str, *,
           scope: Scope, source: str, as_of: Any) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([label for _key, label in columns])
        for row in rows:
            writer.writerow([_cell(row.get(key)) for key, _label in columns])
        return out.getvalue().encode("utf-8")
    document = {
        "table": name, "title": title, "filters": scope.as_dict(), "described": scope.describe(),
        "source": source, "as_of": as_of,
        "columns": [{"key": key, "label": label} for key, label in columns],
        "rows": [{key: row.get(key) for key, _label in columns} for row in rows],
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode("utf-8")


def metrics_export(*, actor: Any, scope: Scope, data: dict[str, Any], name: str, fmt: str) -> tuple[bytes, str, str]:
    """The table as a file: (content, content type, file name). Writes the audit event."""
    if fmt not in FORMATS:
        raise InvalidInput(gettext("Unknown format."), fields={"format": ["Choose csv or json."]})
    title, columns, rows = table(data, name)
    content = render(name, title, columns, rows, fmt, scope=scope, source=data["source"], as_of=data["as_of"])
    audit_record(actor=actor, verb="metrics.exported", target_type="engage.metrics", target_id=name,
                 team=scope.team.pk if scope.team is not None else (scope.event.team_id if scope.event else None),
                 summary={"table": name, "format": fmt, "filters": scope.as_dict(), "rows": len(rows)})
    stem = f"engage-{name}" + (f"-event-{scope.event.pk}" if scope.event is not None else "")
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return content, kind, f"{stem}.{fmt}"

