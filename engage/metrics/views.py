"""The trust dashboard (``/desk/dashboard/``), an event's after-action report (page and PDF) and
the public transparency page (``/transparency/``).

Reads go through ``engage.metrics``; the only writes are the audit events of the PDF download
(``engage.metrics.reports.report_pdf``). CSV and JSON exports are served by the API
(``engage.metrics.api``), which the page links to.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from accounts.models import Team
from accounts.policies import policy_for
from accounts.selectors import audit_head_publications
from campaigns.models import Channel, Event, Segment
from core.errors import NotFound
from core.filters import BoundedDateFormField
from engage.metrics import charts, equity, reports
from engage.metrics.dashboard import dashboard
from engage.metrics.exports import REPORT_TABLES, TABLES
from engage.metrics.scope import Scope, metric_team_ids, resolve_scope
from engage.metrics.transparency import transparency_figures
from engage.public.cache import public_page
from engage.public.i18n import chrome_context, visitor_language

PERIODS = [("30d", _("Last 30 days")), ("7d", _("Last 7 days")), ("today", _("Today")), ("90d", _("Last 90 days")),
           ("all", _("All time")), ("custom", _("Dates below"))]


class DashboardFilterForm(forms.Form):
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Team"))
    event = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Event"))
    segment = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Segment"))
    channel = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Channel"))
    period = forms.ChoiceField(choices=PERIODS, required=False, label=_("Period"))
    since = BoundedDateFormField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = BoundedDateFormField(required=False, label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, teams: list[Team], events: list[Event], segments: list[Segment],
                 channels: list[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        many = len(teams) > 1
        self.fields["team"].choices = [("", _("All my teams"))] + [(t.pk, t.name) for t in teams]
        self.fields["event"].choices = [("", _("All replies (no event filter)"))] + [
            (e.pk, f"{e.name} ({e.starts_at:%d %b %Y})") for e in events]
        self.fields["segment"].choices = [("", _("All segments"))] + [
            (s.pk, f"{s.name} ({s.team.name})" if many else s.name) for s in segments]
        self.fields["channel"].choices = [("", _("All channels"))] + [
            (c.pk, f"{c.name} ({c.team.name})" if many else c.name) for c in channels]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def period_bounds(period: str, *, zone: ZoneInfo, since: date | None, until: date | None,
                  now: datetime) -> tuple[datetime | None, datetime | None]:
    """Whole days in the team's time zone (so large scopes can use the daily summary)."""
    today = now.astimezone(zone).date()
    if period == "all":
        return None, None
    if period == "today":
        return _midnight(today, zone), None
    if period in ("7d", "30d", "90d"):
        return _midnight(today - timedelta(days=int(period[:-1]) - 1), zone), None
    start = _midnight(since, zone) if since else None
    end = _midnight(until + timedelta(days=1), zone) if until else None
    return start, end


def _choices(user: Any) -> dict[str, list[Any]]:
    teams = metric_team_ids(user)
    return {
        "teams": list(Team.objects.filter(pk__in=teams).order_by("parent_id", "name")),
        "events": list(policy_for(Event).restrict(Event.objects.all(), teams).order_by("-starts_at")[:200]),
        "segments": list(policy_for(Segment).restrict(Segment.objects.all(), teams).select_related("team")
                         .order_by("name")),
        "channels": list(policy_for(Channel).restrict(Channel.objects.all(), teams).select_related("team")
                         .order_by("name")),
    }


def dashboard_scope(request: HttpRequest) -> tuple[DashboardFilterForm, Scope, str]:
    """The form and the resolved scope; 404 for another team's objects."""
    choices = _choices(request.user)
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("period"):
        data["period"] = "all" if data.get("event") else "30d"
    form = DashboardFilterForm(data, initial={"period": "30d"}, **choices)
    cleaned: dict[str, Any] = {}
    if form.is_bound:
        if not form.is_valid():
            # An id that is not among the choices is another team's (or no one's): not found.
            if any(name in form.errors for name in ("team", "event", "segment", "channel")):
                raise Http404("No such filter.")
            cleaned = {k: v for k, v in form.cleaned_data.items()}
        else:
            cleaned = form.cleaned_data
    period = cleaned.get("period") or ("all" if cleaned.get("event") else "30d")
    try:
        scope = resolve_scope(user=request.user, team=cleaned.get("team"), event=cleaned.get("event"),
                              segment=cleaned.get("segment"), channel=cleaned.get("channel"))
    except NotFound as exc:
        raise Http404(exc.message) from None
    since, until = period_bounds(period, zone=scope.tz, since=cleaned.get("since"), until=cleaned.get("until"),
                                 now=timezone.now())
    if since is not None and until is not None and until <= since:
        until = None
    scope = replace(scope, since=since, until=until)
    return form, scope, period


def _query(scope: Scope) -> str:
    return urlencode({k: v for k, v in scope.as_dict().items()})


def _export_links(scope: Scope, names: list[str]) -> dict[str, dict[str, str]]:
    query = _query(scope)
    links = {}
    for name in names:
        links[name] = {fmt: reverse("api-metrics-export", kwargs={"table": name, "ext": fmt}) + (f"?{query}" if query
                                                                                              else "")
                       for fmt in ("csv", "json")}
    return links


@login_required
@require_safe
def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not metric_team_ids(request.user):
        return render(request, "campaigns/forbidden.html",
                      {"reason": "The dashboard shows the metrics of your teams; you are in none."}, status=403)
    form, scope, period = dashboard_scope(request)
    data = dashboard(scope)
    return render(request, "engage/dashboard/index.html", {
        "form": form, "data": data, "scope": scope, "period": period, "charts": charts.dashboard_charts(data),
        "exports": _export_links(scope, list(TABLES)), "tz": scope.tz,
        "readers": equity.readers_by_language(scope.team_ids, data["languages"]),
    })


@login_required
@require_safe
def report_view(request: HttpRequest, pk: int) -> HttpResponse:
    # The after-action report is in English whatever the desk's language, like its PDF (docs/translations.md).
    with translation.override("en"):
        try:
            data = reports.event_report(user=request.user, event_id=pk)
        except NotFound as exc:
            raise Http404(exc.message) from None
        scope = data["scope"]
        return render(request, "engage/dashboard/report.html", {
            "data": data, "event": data["event"], "charts": data["charts"], "scope": scope, "tz": scope.tz,
            "notes": reports.method_notes(data), "exports": _export_links(scope, [*REPORT_TABLES, *TABLES]),
            "more": data["timeline_total"] - len(data["timeline"]),
        })


@login_required
@require_safe
def report_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        content, filename = reports.report_pdf(actor=request.user, event_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the public transparency page ------------------------------------------------------------------

@require_safe
@public_page(params=())
def transparency_view(request: HttpRequest) -> HttpResponse:
    lang = visitor_language(request)
    zone = ZoneInfo(settings.ENGAGE_DEFAULT_TIMEZONE)
    with timezone.override(zone), translation.override(lang.ui):  # the page's words; the names of forces and events are content
        response = render(request, "engage/transparency.html", {
            **chrome_context(request, lang), "figures": transparency_figures(), "zone": zone,
            "audit_heads": list(audit_head_publications()[:7]),
        })
    response["Content-Language"] = lang.ui
    response["Cache-Control"] = "public, max-age=300"
    return response
