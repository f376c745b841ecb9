"""Server-rendered SVG charts, each with a text alternative and a data table.

The same SVG goes into the dashboard page (inline, so the strict Content-Security-Policy needs
nothing: presentation attributes only, no ``style`` attribute, no script) and into the PDF
report (fpdf2 draws SVG as vector paths). Text is in "DejaVu Sans" (the font the PDF embeds;
browsers fall back to their sans-serif), every label is escaped, and colours come from the
Okabe–Ito palette, distinguishable with the common colour-vision deficiencies; no meaning rests on
colour alone (labels, legends and tables carry it too).

Each chart is a :class:`Chart`: ``svg`` (safe markup), ``title``, ``summary`` (one or two
sentences saying what the chart shows, for screen readers and as its caption) and a table
(``headers``, ``rows``) with the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from engage.metrics.format import duration, number, percent

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
INK = "#14202b"
MUTED = "#4a5866"
GRID = "#c9d2da"
BAR = "#0b3d66"
FLAG = "#b34700"
SENTIMENT_COLOURS = {
    "positive": "#009e73", "neutral": "#8a97a3", "negative": "#d55e00", "unknown": "#cc79a7",
    "unclassified": "#e3e8ec",
}
SENTIMENT_LABELS = {"positive": gettext_noop("Positive"), "neutral": gettext_noop("Neutral"),
                    "negative": gettext_noop("Negative"), "unknown": gettext_noop("Unknown"),
                    "unclassified": gettext_noop("Not classified yet")}
# The deliveries chart's legend (DeliveryStatus keys, and "waiting").
DELIVERY_LABELS = {"sent": gettext_noop("Sent"), "failed": gettext_noop("Failed"), "withdrawn": gettext_noop("Withdrawn"),
                   "unconfirmed": gettext_noop("Unconfirmed"), "skipped": gettext_noop("Skipped"),
                   "waiting": gettext_noop("Waiting")}
PHASE_FILLS = {"before": "#eef4fa", "during": "#fff1cc", "after": "#e6f4ea"}
DELIVERY_COLOURS = {"sent": "#009e73", "failed": "#d55e00", "withdrawn": "#cc79a7", "unconfirmed": "#e69f00",
                    "skipped": "#8a97a3", "waiting": "#56b4e9"}


@dataclass
class Chart:
    id: str
    title: str
    svg: SafeString
    summary: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: bool = False


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, *, size: int = 11, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-family="{FONT}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}"{bold}>{escape(content)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, *, extra: str = "") -> str:
    return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" height="{_num(max(h, 0))}" '
            f'fill="{fill}"{extra}/>')


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, width: float = 1, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{stroke}" '
            f'stroke-width="{_num(width)}"{dashed}/>')


def _svg(chart_id: str, title: str, summary: str, width: int, height: int, body: list[str]) -> SafeString:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}-svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
            f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
            f'<desc id="{escape(chart_id)}-d">{escape(summary)}</desc>'
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    # Every piece of text in ``body`` went through escape() above: the markup is ours alone.
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000,
                 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _empty(chart_id: str, title: str, message: str, width: int = 640, height: int = 90) -> Chart:
    svg = _svg(chart_id, title, message, width, height, [_text(width / 2, height / 2 + 4, message, anchor="middle",
                                                               fill=MUTED, size=13)])
    return Chart(id=chart_id, title=title, svg=svg, summary=message, empty=True)


# --- the charts -----------------------------------------------------------------------------------

def response_time_histogram(buckets: Sequence[dict[str, Any]], *, chart_id: str = "chart-response-times",
                            median: float | None = None, p90: float | None = None) -> Chart:
    """Vertical bars: answered replies per time-to-first-response band."""
    title = _("Time to first response")
    total = sum(b["replies"] for b in buckets)
    if not total:
        return _empty(chart_id, title, _("No answered replies in this selection yet."))
    width, height, left, right, top, bottom = 640, 260, 48, 12, 24, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max(b["replies"] for b in buckets))
    body: list[str] = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(_line(left, y, width - right, y))
        body.append(_text(left - 6, y + 4, number(value), anchor="end", fill=MUTED, size=10))
    slot = plot_w / len(buckets)
    for i, bucket in enumerate(buckets):
        h = plot_h * bucket["replies"] / top_value
        x = left + slot * i + slot * 0.15
        body.append(_rect(x, top + plot_h - h, slot * 0.7, h, BAR))
        body.append(_text(x + slot * 0.35, top + plot_h - h - 4, number(bucket["replies"]), anchor="middle", size=10))
        body.append(_text(x + slot * 0.35, height - bottom + 16, _(bucket["label"]), anchor="middle", size=10))
    body.append(_line(left, top + plot_h, width - right, top + plot_h, stroke=INK))
    figures = {"median": duration(median), "p90": duration(p90), "total": number(total)}
    body.append(_text(left, height - 8, ngettext(
        "Median %(median)s, 90th percentile %(p90)s; %(total)s answered reply",
        "Median %(median)s, 90th percentile %(p90)s; %(total)s answered replies", total) % figures,
        fill=MUTED, size=10))
    busiest = max(buckets, key=lambda b: b["replies"])
    summary = ngettext(
        "%(total)s answered reply that needed an answer. Most were answered %(band)s (%(busiest)s). "
        "Median %(median)s, 90th percentile %(p90)s.",
        "%(total)s answered replies that needed an answer. Most were answered %(band)s (%(busiest)s). "
        "Median %(median)s, 90th percentile %(p90)s.", total) % {
        **figures, "band": _(busiest["label"]).lower(), "busiest": number(busiest["replies"])}
    rows = [[_(b["label"]), number(b["replies"]), percent(b["replies"] / total)] for b in buckets]
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary,
                 headers=[_("Time to first response"), _("Replies"), _("Share")], rows=rows)


def horizontal_bars(items: Sequence[tuple[str, float]], *, chart_id: str, title: str, unit: str = "replies",
                    highlight: Sequence[str] = (), value_label: Any = None) -> Chart:
    """One bar per item, largest scale first as given; ``highlight`` labels get the warning colour."""
    if not items or not any(v for _l, v in items):
        return _empty(chart_id, title, _("No replies in this selection yet.") if unit == "replies"
                      else f"No {unit} in this selection yet.")
    row_h, left, right, top = 24, 170, 70, 8
    width = 640
    height = top * 2 + row_h * len(items)
    top_value = max(v for _l, v in items) or 1
    plot_w = width - left - right
    fmt = value_label or number
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= 26 else label[:25] + "…"
        body.append(_text(left - 8, y + 16, short, anchor="end", size=11))
        w = plot_w * (value or 0) / top_value
        body.append(_rect(left, y + 4, w, row_h - 8, FLAG if label in highlight else BAR))
        body.append(_text(left + w + 6, y + 16, fmt(value), size=11))
    total = sum(v for _l, v in items)
    largest = max(items, key=lambda item: item[1])
    figures = {"title": title, "total": number(total), "unit": unit, "largest": largest[0],
               "value": fmt(largest[1])}
    summary = (ngettext("%(title)s: %(total)s reply in all; the most were %(largest)s (%(value)s).",
                        "%(title)s: %(total)s replies in all; the most were %(largest)s (%(value)s).", total)
               if unit == "replies" else "%(title)s: %(total)s %(unit)s in all; the most were %(largest)s (%(value)s).")
    summary %= figures
    rows = [[label, fmt(value)] for label, value in items]
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary,
                 headers=["", _("Replies") if unit == "replies" else unit.capitalize()], rows=rows)


def _x_label(moment: datetime, interval: str) -> str:
    """``05 Nov 14:00`` or ``05 Nov``, with the month in the active language."""
    return date_format(moment, "d M H:i" if interval == "hour" else "d M")


def sentiment_over_time(points: Sequence[dict[str, Any]], *, interval: str, bands: Sequence[dict[str, Any]] = (),
                        tz: Any = None, chart_id: str = "chart-sentiment") -> Chart:
    """Stacked columns per hour or day by sentiment, with the event's phases shaded behind."""
    title = _("Sentiment over time")
    keys = ("positive", "neutral", "negative", "unknown", "unclassified")
    totals = [sum(p.get(k, 0) for k in keys) for p in points]
    if not points or not any(totals):
        return _empty(chart_id, title, _("No replies in this selection yet."))
    width, height, left, right, top, bottom = 640, 300, 48, 12, 44, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max(totals))
    n = len(points)
    slot = plot_w / n
    times = [p["t"] if tz is None else p["t"].astimezone(tz) for p in points]
    body: list[str] = []
    step = _step(interval)
    # Phase bands first, behind everything.
    for band in bands:
        start, end = band.get("start"), band.get("end")
        x0 = left if start is None else _x_at(start, times, step, left, slot)
        x1 = width - right if end is None else _x_at(end, times, step, left, slot)
        x0, x1 = max(left, x0), min(width - right, x1)
        if x1 - x0 <= 0.5:
            continue
        body.append(_rect(x0, top, x1 - x0, plot_h, PHASE_FILLS.get(band["phase"], "#f3f3f3")))
        body.append(_text(x0 + 4, top + 12, _(band["label"]), size=10, fill=MUTED, weight="bold"))
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(_line(left, y, width - right, y))
        body.append(_text(left - 6, y + 4, number(value), anchor="end", fill=MUTED, size=10))
    for i, point in enumerate(points):
        x = left + slot * i + slot * 0.1
        y = top + plot_h
        for key in keys:
            value = point.get(key, 0)
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            body.append(_rect(x, y, max(slot * 0.8, 0.6), h, SENTIMENT_COLOURS[key]))
    body.append(_line(left, top + plot_h, width - right, top + plot_h, stroke=INK))
    ticks = max(1, n // 5)
    for i in range(0, n, ticks):
        x = left + slot * (i + 0.5)
        if x > width - right - 40 and i:
            continue  # too close to the edge for its label
        body.append(_text(left if i == 0 else x, height - bottom + 15, _x_label(times[i], interval),
                          anchor="start" if i == 0 else "middle", size=10, fill=MUTED))
    # Legend.
    x = left
    for key in keys:
        body.append(_rect(x, 10, 12, 12, SENTIMENT_COLOURS[key], extra=' stroke="#8a97a3" stroke-width="0.5"'))
        body.append(_text(x + 16, 20, _(SENTIMENT_LABELS[key]), size=10))
        x += 28 + 6.5 * len(_(SENTIMENT_LABELS[key]))
    sums = {k: sum(p.get(k, 0) for p in points) for k in keys}
    total = sum(sums.values())
    peak = max(range(n), key=lambda i: totals[i])
    figures = {"total": number(total), "first": _x_label(times[0], interval), "last": _x_label(times[-1], interval),
               "positive": percent(sums["positive"] / total), "neutral": percent(sums["neutral"] / total),
               "negative": percent(sums["negative"] / total), "unknown": percent(sums["unknown"] / total),
               "peak": _x_label(times[peak], interval), "peak_replies": number(totals[peak])}
    if interval == "hour":
        summary = _("%(total)s replies from %(first)s to %(last)s, per hour: %(positive)s positive, %(neutral)s "
                    "neutral, %(negative)s negative, %(unknown)s unknown (a language the sentiment model does not "
                    "read). The busiest hour was %(peak)s with %(peak_replies)s replies.") % figures
    else:
        summary = _("%(total)s replies from %(first)s to %(last)s, per day: %(positive)s positive, %(neutral)s "
                    "neutral, %(negative)s negative, %(unknown)s unknown (a language the sentiment model does not "
                    "read). The busiest day was %(peak)s with %(peak_replies)s replies.") % figures
    if bands:
        summary += " " + _("The event's phases (before, during, after) are shaded.")
    rows = [[_x_label(t, interval), *[number(p.get(k, 0)) for k in keys], number(tot)]
            for t, p, tot in zip(times, points, totals, strict=True) if tot]
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary,
                 headers=[_("Time"), *[_(SENTIMENT_LABELS[k]) for k in keys], _("Total")], rows=rows)


def _step(interval: str) -> float:
    return 3600.0 if interval == "hour" else 86400.0


def _x_at(moment: datetime, times: Sequence[datetime], step: float, left: float, slot: float) -> float:
    offset = (moment - times[0]).total_seconds() / step
    return left + slot * offset


def equity_bars(rows: Sequence[dict[str, Any]], overall_rate: float | None, *, chart_id: str, title: str) -> Chart:
    """Response rate per group against the overall rate (a dashed line); under-served in orange."""
    shown = [r for r in rows if r.get("response_rate") is not None]
    if not shown or overall_rate is None:
        return _empty(chart_id, title, _("No replies needing an answer in this selection yet."))
    row_h, left, right, top = 26, 190, 120, 24
    width = 640
    height = top + row_h * len(shown) + 20
    plot_w = width - left - right
    body: list[str] = []
    for pct in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + plot_w * pct
        body.append(_line(x, top - 4, x, height - 16))
        body.append(_text(x, height - 4, percent(pct), anchor="middle", size=9, fill=MUTED))
    x = left + plot_w * overall_rate  # the overall line first, so the bars' labels are drawn over it
    body.append(_line(x, top - 4, x, height - 16, stroke=INK, width=1.5, dash="4 3"))
    body.append(_text(x, top - 8, _("overall %(rate)s") % {"rate": percent(overall_rate)}, anchor="middle", size=10,
                      fill=INK,
                      weight="bold"))
    for i, row in enumerate(shown):
        y = top + i * row_h
        label = str(row["label"])
        short = label if len(label) <= 28 else label[:27] + "…"
        body.append(_text(left - 8, y + 17, short, anchor="end", size=11,
                          weight="bold" if row.get("under_served") else "normal"))
        w = plot_w * row["response_rate"]
        body.append(_rect(left, y + 5, w, row_h - 10, FLAG if row.get("under_served") else BAR))
        note = percent(row["response_rate"]) + (" " + _("under-served") if row.get("under_served") else "")
        body.append(_text(left + w + 6, y + 17, note, size=11, fill=FLAG if row.get("under_served") else INK,
                          weight="bold" if row.get("under_served") else "normal"))
    flagged = [r for r in shown if r.get("under_served")]
    summary = _("Share of replies needing an answer that got one, per group, against %(overall)s overall.") % {
        "overall": percent(overall_rate)}
    summary += " " + (_("Under-served: %(flags)s.") % {"flags": "; ".join(r["flag"] for r in flagged)} if flagged
                      else _("No group is flagged as under-served."))
    table = [[str(r["label"]), number(r["needing_answer"]), percent(r["response_rate"]), duration(r["median_seconds"]),
              _("under-served") if r.get("under_served") else ""] for r in shown]
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary,
                 headers=[_("Group"), _("Needing an answer"), _("Answered"), _("Median first answer"), _("Flag")],
                 rows=table)


def deliveries_bars(channels: Sequence[dict[str, Any]], *, chart_id: str = "chart-deliveries") -> Chart:
    """Stacked horizontal bars per channel: sent, failed, withdrawn, unconfirmed, skipped, waiting."""
    title = _("Deliveries per channel")
    keys = ("sent", "failed", "withdrawn", "unconfirmed", "skipped", "waiting")
    if not channels or not any(c["total"] for c in channels):
        return _empty(chart_id, title, _("Nothing was sent in this selection."))
    row_h, left, right, top = 26, 190, 60, 30
    width = 640
    height = top + row_h * len(channels) + 8
    plot_w = width - left - right
    top_value = max(c["total"] for c in channels) or 1
    body: list[str] = []
    x = left
    for key in keys:
        body.append(_rect(x, 8, 12, 12, DELIVERY_COLOURS[key]))
        body.append(_text(x + 16, 18, _(DELIVERY_LABELS[key]), size=10))
        x += 28 + 6.5 * len(_(DELIVERY_LABELS[key]))
    for i, channel in enumerate(channels):
        y = top + i * row_h
        label = str(channel["channel"])
        body.append(_text(left - 8, y + 17, label if len(label) <= 28 else label[:27] + "…", anchor="end", size=11))
        x = left
        for key in keys:
            if channel[key]:
                w = plot_w * channel[key] / top_value
                body.append(_rect(x, y + 5, w, row_h - 10, DELIVERY_COLOURS[key]))
                x += w
        body.append(_text(x + 6, y + 17, number(channel["total"]), size=11))
    sent = sum(c["sent"] for c in channels)
    failed = sum(c["failed"] for c in channels)
    total = sum(c["total"] for c in channels)
    summary = ngettext("%(total)s deliveries on %(channels)s channel: %(sent)s sent, %(failed)s failed, "
                       "%(withdrawn)s withdrawn.",
                       "%(total)s deliveries on %(channels)s channels: %(sent)s sent, %(failed)s failed, "
                       "%(withdrawn)s withdrawn.", len(channels)) % {
        "total": number(total), "channels": number(len(channels)), "sent": number(sent), "failed": number(failed),
        "withdrawn": number(sum(c["withdrawn"] for c in channels))}
    rows = [[str(c["channel"]), *[number(c[k]) for k in keys], number(c["total"])] for c in channels]
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary,
                 headers=[_("Channel"), *[_(DELIVERY_LABELS[k]) for k in keys], _("Total")], rows=rows)


def dashboard_charts(data: dict[str, Any]) -> dict[str, Chart]:
    """The dashboard's (and the report's) charts from :func:`engage.metrics.dashboard.dashboard`."""
    times = data["summary"]["time_to_first_response"]
    overall = data["summary"]["response_rate"]
    categories = [(_(row["label"]), row["replies"]) for row in data["categories"]]  # noqa: INT001 - voice.CATEGORY_LABELS
    return {
        "response_times": response_time_histogram(data["distribution"], median=times["median_seconds"],
                                                  p90=times["p90_seconds"]),
        "sentiment": sentiment_over_time(data["sentiment"]["points"], interval=data["sentiment"]["interval"],
                                         bands=data["sentiment"]["bands"], tz=data["scope"].tz),
        "categories": horizontal_bars(categories, chart_id="chart-categories", title=_("Volume by category")),
        "segments": equity_bars(data["segments"], overall, chart_id="chart-segments",
                                title=_("Response rate by segment")),
        "languages": equity_bars(data["languages"], overall, chart_id="chart-languages",
                                 title=_("Response rate by language")),
        "deliveries": deliveries_bars(data["channels"]),
    }
