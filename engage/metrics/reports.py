"""The after-action report of an event: a printable page and a PDF.

Sections, in both: the headline figures; the timeline of what was published and when, with
each message's delivery outcomes and the replies it drew; delivery outcomes per channel; the
replies and how fast they were answered; sentiment before, during and after; rumours and
corrections; the equity tables (segments and languages, under-served flagged); and how the
figures were computed (definitions, live or summary, as of when).

**PDF stack: fpdf2** (pure Python, on PyPI, its only compiled dependency is Pillow, which Engage
already has), rather than WeasyPrint, which needs Debian's Pango and would break the promise that
a fresh machine needs nothing but pip. fpdf2 draws the same SVG charts as the page as vector
paths, so the PDF's charts are sharp at any zoom and match the dashboard.

**Scripts.** Text is set in DejaVu Sans (Latin, Greek, Cyrillic), and text with Arabic-script letters
(Arabic, Farsi, Urdu, Pashto, Sorani) in Noto Naskh Arabic; Ethiopic letters (Tigrinya, Amharic) fall
back to Noto Sans Ethiopic. The fonts are committed in ``engage/metrics/fonts`` (licences beside
them). fpdf2 shapes every run with HarfBuzz (``uharfbuzz``): Arabic letters take their joined forms,
right-to-left runs are ordered by the Unicode bidirectional algorithm, and a paragraph or table cell
that starts right to left is aligned right. The printable HTML page stays the accessible version, and
the PDF says so on its first page.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.policies import policy_for
from campaigns.models import DeliveryStatus, Message, MessageStatus, phase_at
from engage.metrics import charts, equity, summary, voice
from engage.metrics.dashboard import dashboard, sentiment_by_phase
from engage.metrics.format import duration, number, percent
from engage.metrics.scope import Scope, replies, resolve_scope

FONTS = Path(__file__).resolve().parent / "fonts"
LATIN = "DejaVu Sans"
ARABIC = "Noto Naskh Arabic"
ETHIOPIC = "Noto Sans Ethiopic"
_ARABIC_LETTERS = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Text that HarfBuzz must shape: right-to-left letters (Arabic script, Hebrew) and Ethiopic.
_NEEDS_SHAPING = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u1200-\u139f\u2d80-\u2ddf\uab00-\uab2f]")
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # it logs every glyph it keeps, at INFO
TIMELINE_LIMIT = 200
PUBLISHED = (MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.WITHDRAWN,
             MessageStatus.FAILED, MessageStatus.PUBLISHING)


def timeline(scope: Scope, *, limit: int | None = TIMELINE_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """Messages of the event that went out (or were due to), oldest first, with their deliveries'
    outcomes and the replies each drew: two queries whatever the number of messages."""
    event = scope.event
    qs = (policy_for(Message).restrict(Message.objects.filter(campaign__event_id=event.pk), scope.team_ids)
          .filter(Q(published_at__isnull=False) | Q(status__in=PUBLISHED)))
    total = qs.count()
    rows = (qs.annotate(sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT), distinct=True),
                        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED), distinct=True),
                        withdrawn=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.WITHDRAWN),
                                        distinct=True))
            .prefetch_related("segments").order_by("published_at", "id"))
    if limit is not None:
        rows = rows[:limit]
    rows = list(rows)
    counts = dict(replies(scope).filter(message_id__in=[m.pk for m in rows]).values("message_id")
                  .annotate(n=Count("pk")).order_by().values_list("message_id", "n"))
    out = []
    for message in rows:
        when = message.published_at or message.scheduled_at
        out.append({
            "id": message.pk, "published_at": when, "title": message.title or message.body[:80],
            "phase": phase_at(starts_at=event.starts_at, ends_at=event.ends_at, at=when) if when else "",
            "urgency": message.urgency, "status": message.status,
            "segments": ", ".join(s.name for s in message.segments.all()),
            "sent": message.sent, "failed": message.failed, "withdrawn": message.withdrawn,
            "replies": counts.get(message.pk, 0),
        })
    return out, total


def event_report(*, user: Any, event_id: Any, timeline_limit: int | None = TIMELINE_LIMIT) -> dict[str, Any]:
    """Everything the report shows. Another team's event raises NotFound."""
    scope = resolve_scope(user=user, event=event_id)
    data = dashboard(scope)
    if data["source"] == "summary":
        grain = summary.grain_for(scope, data["interval"])
        phases = summary.response_by(scope, grain, "phase", data["summary"])
        moods = summary.sentiment_by_phase(scope, grain)
    else:
        qs = replies(scope)
        phases = equity.response_by(qs, "phase", data["summary"], now=data["computed_at"])
        moods = sentiment_by_phase(qs)
    mood_by_phase = {m["phase"]: m for m in moods}
    order = {"before": 0, "during": 1, "after": 2, "none": 3}
    data["phases"] = sorted(
        [{**row, **{k: mood_by_phase.get(row["key"], {}).get(k, 0)
                    for k in ("positive", "neutral", "negative", "unknown")},
          "net": mood_by_phase.get(row["key"], {}).get("net")} for row in phases],
        key=lambda row: order.get(row["key"], 9))
    data["timeline"], data["timeline_total"] = timeline(scope, limit=timeline_limit)
    data["rumour_list"] = voice.rumour_list(scope)
    data["event"] = scope.event
    data["charts"] = charts.dashboard_charts(data)
    data["generated_at"] = timezone.now()
    return data


# --- the PDF -----------------------------------------------------------------------------------------

def _family(text: str) -> str:
    """The font for a run of text: Noto Naskh Arabic for anything with Arabic-script letters (DejaVu
    Sans draws some Arabic but lacks Urdu's ہ and ے, and a font change inside a word breaks its
    joins); DejaVu Sans otherwise. Letters a font lacks come from the fallbacks (:func:`_add_fonts`)."""
    return ARABIC if _ARABIC_LETTERS.search(text or "") else LATIN


def _rtl(text: str) -> bool:
    """Does the text start right to left (its first strong character, as the bidi algorithm's P2)?"""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _add_fonts(pdf: Any) -> None:
    for family, stem in ((LATIN, "DejaVuSans"), (ARABIC, "NotoNaskhArabic"), (ETHIOPIC, "NotoSansEthiopic")):
        pdf.add_font(family, "", str(FONTS / f"{stem}{'-Regular' if family != LATIN else ''}.ttf"))
        pdf.add_font(family, "B", str(FONTS / f"{stem}-Bold.ttf"))
    # A letter the current font lacks comes from the first of these that has it: Latin letters in an
    # Arabic-script run from DejaVu Sans, Ethiopic from Noto Sans Ethiopic.
    pdf.set_fallback_fonts([LATIN, ETHIOPIC, ARABIC])


def _shaping(pdf: Any, *texts: str) -> None:
    """Shape the next run with HarfBuzz (uharfbuzz) when it has right-to-left or Ethiopic letters.
    fpdf2 then orders it with the Unicode bidirectional algorithm, and HarfBuzz finds each directional
    run's script. Latin-only text is not shaped: shaping doubles the time a long table takes."""
    pdf.set_text_shaping(use_shaping_engine=any(_NEEDS_SHAPING.search(text or "") for text in texts))


def _pdf_class() -> type:
    from fpdf import FPDF

    class ReportPDF(FPDF):
        title_text = ""

        def header(self) -> None:
            if self.page_no() == 1:
                return
            shaping = self.text_shaping  # a page can break inside a table that is being shaped
            _shaping(self, self.title_text)
            self.set_font(_family(self.title_text), size=8)
            self.set_text_color(74, 88, 102)
            self.cell(0, 6, self.title_text, new_x="LMARGIN", new_y="NEXT")
            self.text_shaping = shaping
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(LATIN, size=8)
            self.set_text_color(74, 88, 102)
            self.cell(0, 6, f"Engage after-action report · page {self.page_no()}/{{nb}}", align="C")

    return ReportPDF


def _heading(pdf: Any, text: str, level: int = 1) -> None:
    if level == 1 and pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.set_font(_family(text), style="B", size=14 if level == 1 else 11)
    pdf.set_text_color(11, 61, 102)
    pdf.ln(3)
    pdf.start_section(text, level=level - 1)
    _shaping(pdf, text)
    pdf.multi_cell(0, 7, text, align="R" if _rtl(text) else "J", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(20, 32, 43)
    pdf.set_font(LATIN, size=9.5)


def _para(pdf: Any, text: str) -> None:
    pdf.set_font(_family(text), size=9.5)
    _shaping(pdf, text)
    pdf.multi_cell(0, 5, text, align="R" if _rtl(text) else "J", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(LATIN, size=9.5)
    pdf.ln(1)


def _chart(pdf: Any, chart: charts.Chart, width: float = 180) -> None:
    height = width * _ratio(chart)
    if pdf.get_y() + height > pdf.h - 18:
        pdf.add_page()
    # <title> and <desc> serve screen readers on the page; the PDF prints the summary below instead.
    svg = re.sub(r"<title[^>]*>.*?</title>|<desc[^>]*>.*?</desc>", "", str(chart.svg), flags=re.S)
    pdf.image(io.BytesIO(svg.encode("utf-8")), x=pdf.l_margin, w=width)
    pdf.ln(2)
    pdf.set_font(_family(chart.summary), size=8.5)
    _shaping(pdf, chart.summary)
    pdf.set_text_color(74, 88, 102)
    pdf.multi_cell(0, 4.5, chart.summary, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(20, 32, 43)
    pdf.ln(2)


def _ratio(chart: charts.Chart) -> float:
    match = re.search(r'viewBox="0 0 (\d+) (\d+)"', str(chart.svg))
    return int(match.group(2)) / int(match.group(1)) if match else 0.4


def _table(pdf: Any, headers: list[str], rows: list[list[str]], widths: tuple[float, ...] | None = None) -> None:
    if not rows:
        _para(pdf, "None.")
        return
    pdf.set_font(LATIN, size=8)
    _shaping(pdf, *headers, *(str(cell) for row in rows for cell in row))
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6, padding=1,
                   headings_style=_heading_style()) as table:
        table.row([str(h) for h in headers])
        for row in rows:
            cells = table.row()
            for cell in row:
                _table_cell(cells, str(cell))
    pdf.ln(3)
    pdf.set_font(LATIN, size=9.5)


def _table_cell(row: Any, text: str) -> None:
    from fpdf.fonts import FontFace

    family = _family(text)
    row.cell(text, align="RIGHT" if _rtl(text) else None,
             style=FontFace(family=family) if family != LATIN else None)


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(238, 242, 245))


ACCESSIBLE_NOTE = ("This PDF is for printing and sharing. The accessible version of this report is its web page, "
                   "{url}, which works with screen readers and zoom and gives every chart's figures as a table.")


def _accessible_note(pdf: Any, event: Any) -> None:
    from django.conf import settings
    from django.urls import reverse

    url = settings.ENGAGE_SITE_URL + reverse("dashboard:report", args=[event.pk])
    pdf.set_font(LATIN, size=9.5)
    _shaping(pdf)
    pdf.set_fill_color(238, 242, 245)
    pdf.multi_cell(0, 5, ACCESSIBLE_NOTE.format(url=url), align="L", fill=True, padding=2, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def render_pdf(data: dict[str, Any]) -> bytes:
    event = data["event"]
    zone = data["scope"].tz
    pdf = _pdf_class()(format="A4")
    _add_fonts(pdf)
    pdf.set_title(f"After-action report: {event.name}")
    pdf.set_author("Engage")
    pdf.set_creator("Engage (fpdf2)")
    pdf.title_text = f"After-action report: {event.name}"
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font(_family(event.name), style="B", size=18)
    _shaping(pdf, event.name)
    pdf.set_text_color(11, 61, 102)
    pdf.multi_cell(0, 9, f"After-action report: {event.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(20, 32, 43)
    ends = event.ends_at.astimezone(zone).strftime("%d %b %Y %H:%M") if event.ends_at else "ongoing"
    _para(pdf, f"{event.get_kind_display()} at {event.location or 'no location given'}, from "
               f"{event.starts_at.astimezone(zone):%d %b %Y %H:%M} to {ends} ({zone}). Generated "
               f"{data['generated_at'].astimezone(zone):%d %b %Y %H:%M}; figures "
               f"{'from the summary table as of ' + data['as_of'].astimezone(zone).strftime('%H:%M') if data['source'] == 'summary' else 'computed live'}.")
    _accessible_note(pdf, event)
    s = data["summary"]
    times = s["time_to_first_response"]
    _heading(pdf, "Summary")
    _table(pdf, ["Figure", "Value"], [
        ["Replies", number(s["replies"])],
        ["Needing an answer", number(s["needing_answer"])],
        ["Answered (response rate)", f"{number(s['answered_needing'])} ({percent(s['response_rate'])})"],
        ["Median / 90th percentile first answer", f"{duration(times['median_seconds'])} / {duration(times['p90_seconds'])}"],
        ["SLA met", f"{number(s['sla']['met'])} of {number(s['sla']['measured'])} ({percent(s['sla']['rate'])})"],
        ["Open now (overdue)", f"{number(data['backlog']['open'])} ({number(data['backlog']['overdue'])})"],
        ["Messages published", number(data["timeline_total"])],
        ["Deliveries sent / failed / withdrawn", f"{number(data['reach']['sent'])} / {number(data['reach']['failed'])}"
                                                 f" / {number(data['reach']['withdrawn'])}"],
        ["Rumours raised / decided", f"{number(data['rumours']['raised'])} / {number(data['rumours']['decided'])}"],
        ["Corrections published", number(data["corrections_published"]["total"])],
    ], widths=(90, 90))
    if data["flags"]:
        _para(pdf, "Under-served: " + "; ".join(data["flags"]) + ".")
    else:
        _para(pdf, "No segment or language was flagged as under-served.")

    _heading(pdf, "Timeline: what was published and when")
    more = data["timeline_total"] - len(data["timeline"])
    _table(pdf, ["Published", "Phase", "Message", "Segments", "Sent", "Failed", "Replies"], [
        [r["published_at"].astimezone(zone).strftime("%d %b %H:%M") if r["published_at"] else "–", r["phase"],
         r["title"], r["segments"] or "–", number(r["sent"]), number(r["failed"]), number(r["replies"])]
        for r in data["timeline"]], widths=(24, 16, 66, 36, 12, 12, 14))
    if more > 0:
        _para(pdf, f"And {number(more)} more messages: the full timeline is in the CSV export.")

    _heading(pdf, "Delivery outcomes")
    _chart(pdf, data["charts"]["deliveries"])
    _para(pdf, data["reach"]["platform_stats_note"])

    _heading(pdf, "Replies and how fast they were answered")
    _chart(pdf, data["charts"]["response_times"])
    _table(pdf, ["Open now, by age", "Replies"], [[b["label"], number(b["replies"])] for b in data["backlog"]["by_age"]],
           widths=(90, 90))

    _heading(pdf, "Sentiment before, during and after")
    _chart(pdf, data["charts"]["sentiment"])
    _table(pdf, ["Phase", "Replies", "Answered", "Median first answer", "Positive", "Neutral", "Negative", "Net"], [
        [p["label"], number(p["replies"]), percent(p["response_rate"]), duration(p["median_seconds"]),
         number(p["positive"]), number(p["neutral"]), number(p["negative"]),
         "–" if p["net"] is None else f"{p['net']:+.2f}"] for p in data["phases"]],
        widths=(26, 20, 22, 30, 20, 20, 20, 22))
    _chart(pdf, data["charts"]["categories"])

    _heading(pdf, "Rumours and corrections")
    r = data["rumours"]
    _para(pdf, f"{number(r['raised'])} rumours registered, {number(r['decided'])} given a public status "
               f"({number(r['confirmed'])} confirmed, {number(r['false'])} false, {number(r['unverified'])} "
               f"unverified); median time to a decision {duration(r['median_seconds_to_decision'])}. "
               f"{number(data['corrections_published']['total'])} corrections published.")
    _table(pdf, ["Raised", "Claim", "Status", "Explanation"], [
        [x["raised_at"].astimezone(zone).strftime("%d %b %H:%M"), x["claim"], x["status"] if x["published_at"]
         else "awaiting decision", x["explanation"] or "–"] for x in data["rumour_list"]], widths=(24, 60, 26, 70))

    _heading(pdf, "Equity: who was answered")
    _chart(pdf, data["charts"]["segments"])
    _table(pdf, data["charts"]["segments"].headers, data["charts"]["segments"].rows, widths=(60, 30, 25, 35, 30))
    _chart(pdf, data["charts"]["languages"])
    _table(pdf, data["charts"]["languages"].headers, data["charts"]["languages"].rows, widths=(60, 30, 25, 35, 30))

    _heading(pdf, "How these figures are computed")
    for line in method_notes(data):
        _para(pdf, line)
    return bytes(pdf.output())


def method_notes(data: dict[str, Any]) -> list[str]:
    t = data["thresholds"]
    notes = [
        "Needing an answer: questions, complaints, emergencies, rumour reports, crime reports, information (tips) "
        "and replies not classified yet; praise, abuse and spam do not. Answered: an answer was actually sent "
        "(first_response_at). Times run from when the person sent the reply.",
        "SLA compliance: answered by the team's deadline, over answered by it plus missed (answered late or still "
        "unanswered after it); replies still inside their deadline are not counted.",
        "Phases come from the event's start and end times and when each reply was received. Segments come from "
        "the message a reply answered; a message aimed at several segments counts for each.",
        f"Under-served: at least {t['min_needing']} replies needing an answer and a response rate at least "
        f"{round(t['rate_gap'] * 100)} points below the overall rate, beyond chance (the upper end of the 95% "
        f"Wilson interval is below the overall rate); or a median first answer over {t['time_ratio']:g} times the "
        f"overall median and at least {t['time_min_gap_seconds'] // 60} minutes longer.",
    ]
    if data["source"] == "summary":
        notes.append("Computed from the hourly summary table: counts are exact as of the last refresh; the median "
                     "and 90th percentile are interpolated within response-time bands.")
    else:
        notes.append("Computed live from the replies: the median and 90th percentile are exact (continuous "
                     "percentiles, as PostgreSQL's percentile_cont).")
    notes.append("No personal data is in this report: no reply text, no names or handles.")
    return notes


def report_pdf(*, actor: Any, event_id: Any) -> tuple[bytes, str]:
    """The PDF and its file name; the download is on the audit trail. In English whatever the desk's
    language: the after-action report is not translated (docs/translations.md)."""
    from django.utils import translation

    with translation.override("en"):
        data = event_report(user=actor, event_id=event_id)
        content = render_pdf(data)
    event = data["event"]
    audit_record(actor=actor, verb="metrics.report_exported", target=event, team=event.team_id,
                 summary={"format": "pdf", "bytes": len(content), "source": data["source"]})
    return content, f"after-action-event-{event.pk}.pdf"
