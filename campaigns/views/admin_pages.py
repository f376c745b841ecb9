"""Segments, channels and the publishing controls (pause, resume, review before sending)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts import permissions
from accounts.models import Team
from accounts.policies import policy_for
from campaigns import channel_panels, publishing, selectors
from campaigns.forms import ChannelForm, PauseForm, SegmentForm
from campaigns.models import Segment
from campaigns.services import channels as channel_services
from campaigns.services import segments as segment_services
from campaigns.views import forbidden
from core.web import run_service


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", " ").split() if v.strip()]


@login_required
@require_safe
def segment_list(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/segment_list.html", {
        "segments": selectors.segments_for(request.user),
        "can_create": policy_for(Segment).allows_any(request.user, "draft"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    teams = policy_for(Team).queryset(request.user, "draft")
    segment = None
    initial = {}
    if pk is not None:
        segment = selectors.segments_for(request.user).filter(pk=pk).first()
        if segment is None:
            raise Http404("No such segment.")
        if request.method == "POST" and not permissions.can_manage_segments(request.user, segment.team_id):
            return forbidden(request, gettext("Only officers and supervisors of this team change its segments."))
        initial = {"team": segment.team_id, "name": segment.name, "description": segment.description,
                   "languages": " ".join(segment.languages), "channels": segment.channels,
                   "areas": ", ".join(segment.areas), "needs": segment.needs}
    elif not teams.exists():
        return forbidden(request, gettext("Only officers and supervisors create segments."))
    form = SegmentForm(request.POST or None, initial=initial, teams=teams)
    if segment is not None:
        form.fields["team"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        team = data.pop("team")
        data["languages"] = _split(data["languages"])
        data["areas"] = [a.strip() for a in data["areas"].split(",") if a.strip()]
        if segment is None:
            result = run_service(request, segment_services.segment_create, team=team, success=gettext("Segment saved."),
                                 **data)
        else:
            result = run_service(request, segment_services.segment_update, segment=segment, success=gettext("Segment saved."),
                                 **data)
        if result is not None:
            return redirect("campaigns:segments")
    can_edit = segment is None or permissions.can_manage_segments(request.user, segment.team_id)
    return render(request, "campaigns/segment_form.html", {"form": form, "segment": segment, "can_edit": can_edit})


@login_required
@require_http_methods(["GET", "POST"])
def channel_list(request: HttpRequest) -> HttpResponse:
    admin_teams = policy_for(Team).queryset(request.user, "administer")
    if request.method == "POST" and not admin_teams.exists():
        return forbidden(request, gettext("Only administrators add channels."))
    form = ChannelForm(request.POST or None, teams=admin_teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_service(request, channel_services.channel_create, team=data["team"], kind=data["kind"],
                       name=data["name"], config=data["config"] or {}, success=gettext("Channel added.")):
            return redirect("campaigns:channels")
    channels = list(selectors.channels_for(request.user))
    panels = channel_panels.panels_for(user=request.user, channels=channels, request=request)
    for channel in channels:
        channel.panels = panels.get(channel.pk, [])
    return render(request, "campaigns/channels.html", {
        "channels": channels, "form": form, "can_add": admin_teams.exists(),
        "panelled": [c for c in channels if c.panels],
    })


@login_required
@require_http_methods(["GET", "POST"])
def publishing_controls(request: HttpRequest) -> HttpResponse:
    user = request.user
    supervised = list(policy_for(Team).queryset(user, "supervise"))
    everything = permissions.can_pause_everything(user)
    if request.method == "POST" and not (supervised or everything):
        return forbidden(request, gettext("Only supervisors pause or resume publishing."))
    pauses = list(selectors.pauses_for(user))
    restored = [p for p in pauses if hasattr(p, "restore_report")]
    form = PauseForm(request.POST or None, teams=supervised, everything=everything, restored=bool(restored))
    if request.method == "POST" and form.is_valid():
        team = form.cleaned_data["team"]
        if request.POST.get("do") == "resume":
            run_service(request, publishing.publishing_resume, team=team, reason=form.cleaned_data["reason"],
                        restore_report_seen=bool(form.cleaned_data.get("restore_report_seen")),
                        success=gettext("Publishing resumed. Anything long overdue waits for review below."))
        else:
            run_service(request, publishing.publishing_pause, team=team, reason=form.cleaned_data["reason"],
                        success=gettext("Publishing is paused. Nothing leaves until it is resumed."))
        return redirect("campaigns:publishing")
    return render(request, "campaigns/publishing.html", {
        "form": form, "can_pause": bool(supervised) or everything, "pauses": pauses,
        "restore_reports": [p.restore_report for p in restored],
        "held": selectors.held_deliveries(user), "problems": selectors.problem_deliveries(user),
    })

