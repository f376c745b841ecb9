"""The awareness panel's two charts (posts and posts with danger words per 5 minutes), drawn with
the dashboard's SVG helpers (``engage.metrics.charts``): inline SVG, a title and a summary for
screen readers, and the same figures as a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from engage.metrics.charts import BAR, FLAG, MUTED, Chart, _empty, _line, _nice_max, _rect, _svg, _text


def time_bars(points: Sequence[dict[str, Any]], key: str, *, chart_id: str, title: str, danger: bool = False) -> Chart:
    """One bar per 5-minute bucket, the local time under every 12th."""
    if not points or not any(p[key] for p in points):
        return _empty(chart_id, title, _("Nothing counted in the last 24 hours."))
    width, height, left, bottom, top = 640, 160, 40, 24, 10
    plot_w, plot_h = width - left - 10, height - top - bottom
    top_value = _nice_max(max(p[key] for p in points))
    slot = plot_w / max(len(points), 1)
    body = [_line(left, top + plot_h, width - 10, top + plot_h, stroke=MUTED),
            _text(left - 4, top + 8, str(int(top_value)), anchor="end", size=10, fill=MUTED)]
    for i, point in enumerate(points):
        h = plot_h * point[key] / top_value
        body.append(_rect(left + i * slot + 1, top + plot_h - h, max(slot - 2, 1), h, FLAG if danger else BAR))
        if i % 12 == 0:
            body.append(_text(left + i * slot, height - 6, timezone.localtime(point["start"]).strftime("%H:%M"),
                              size=10, fill=MUTED))
    total = sum(p[key] for p in points)
    peak = max(points, key=lambda p: p[key])
    summary = _("%(title)s: %(total)s in all; the most in 5 minutes was %(peak)s, from %(time)s.") % {
        "title": title, "total": total, "peak": peak[key], "time": timezone.localtime(peak["start"]).strftime("%H:%M")}
    return Chart(id=chart_id, title=title, svg=_svg(chart_id, title, summary, width, height, body), summary=summary)


def panel_charts(points: Sequence[dict[str, Any]]) -> dict[str, Chart]:
    return {"volume": time_bars(points, "volume", chart_id="awareness-volume", title=_("Public posts per 5 minutes")),
            "danger": time_bars(points, "danger", chart_id="awareness-danger", danger=True,
                                title=_("Posts with danger words per 5 minutes"))}
