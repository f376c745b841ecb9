"""Events and playbooks (the calendar of scheduled messages is in ``calendar``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from accounts.models import Team
from accounts.policies import policy_for
from campaigns import selectors
from campaigns.forms import EventForm
from campaigns.models import Event, EventKind, Message, Phase
from campaigns.services import events as event_services
from campaigns.views import forbidden
from core.ids import parse_id
from core.web import run_service


@login_required
@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    events = selectors.events_with_publication(request.user).order_by("-starts_at")
    return render(request, "campaigns/event_list.html", {
        "events": events,
        "can_create": policy_for(Event).allows_any(request.user, "draft"),
    })


def _event_form_teams(request: HttpRequest):
    return policy_for(Team).queryset(request.user, "draft")


@login_required
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest) -> HttpResponse:
    if not policy_for(Event).allows_any(request.user, "draft"):
        return forbidden(request, gettext("Only officers and supervisors create events."))
    form = EventForm(request.POST or None, teams=_event_form_teams(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        team = data.pop("team")
        event = run_service(request, event_services.event_create, team=team,
                            success=gettext("Event created. It is not public until a supervisor publishes it."), **data)
        if event is not None:
            run_service(request, event_services.campaign_create, team=team, name=event.name, event=event)
            return redirect("campaigns:event", pk=event.pk)
    return render(request, "campaigns/event_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    if request.method == "POST" and not policy_for(Event).may(request.user, "draft", event):
        return forbidden(request, gettext("Only officers and supervisors of this team edit its events."))
    initial = {f: getattr(event, f) for f in EventForm.base_fields if f not in ("team", "hashtags")}
    initial["team"] = event.team_id
    initial["hashtags"] = " ".join(f"#{t}" for t in event.hashtags)
    form = EventForm(request.POST or None, initial=initial, teams=_event_form_teams(request))
    form.fields["team"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "team"}
        if run_service(request, event_services.event_update, event=event,
                       success=gettext("Event saved. Changes to the public page wait for a supervisor to publish them."),
                       **data):
            return redirect("campaigns:event", pk=pk)
    playbooks = selectors.playbooks_for(request.user, kind=event.kind, phase=event.phase)
    return render(request, "campaigns/event_detail.html", {
        **_publication_context(request, event),
        "event": event, "form": form, "playbooks": playbooks,
        "campaigns": selectors.campaigns_for(request.user).filter(event=event),
        "event_messages": selectors.messages_for(request.user).filter(campaign__event=event)
        .order_by("-created_at")[:50],  # not "messages": that name is the flash messages' in base.html
        "can_override": policy_for(Event).may(request.user, "supervise", event),
        "can_edit": policy_for(Event).may(request.user, "draft", event),
        "phases": Phase.choices,
    })


def _publication_context(request: HttpRequest, event: Event) -> dict[str, Any]:
    """What the public sees, what waits to be published (field by field), and who may publish it."""
    draft = event_services.event_draft(event)
    pending = event_services.pending_revisions(event) if draft else []
    authors = {r.author_id for r in pending if r.author_id is not None}
    is_supervisor = policy_for(Event).may(request.user, "supervise", event)
    return {
        "draft": draft, "diff": event_services.event_diff(event), "pending_authors": pending,
        "published": event.published_revision, "public_view": event.public_version(),
        "can_publish": bool(draft) and permissions.can_publish_event(request.user, event, draft_authors=authors),
        "wrote_draft": bool(draft) and is_supervisor and request.user.pk in authors,
        "revisions": event.revisions.select_related("author", "published_by").order_by("-number")[:20],
    }


@login_required
@require_POST
def event_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisor who wrote none of the draft publishes it (the hash they reviewed)."""
    event = selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    if not policy_for(Event).may(request.user, "supervise", event):
        return forbidden(request, gettext("Only a supervisor of this team publishes an event's public page."))
    run_service(request, event_services.event_publish, event=event,
                expected_hash=request.POST.get("content_hash", ""), success=gettext("Published on the public pages."))
    return redirect("campaigns:event", pk=pk)


@login_required
@require_POST
def event_phase(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    phase = request.POST.get("phase") or None
    run_service(request, event_services.event_set_phase, event=event, phase=phase,
                reason=request.POST.get("reason", ""), success=gettext("Phase updated."))
    return redirect("campaigns:event", pk=pk)


@login_required
@require_safe
def playbook_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    phase = request.GET.get("phase", "")
    return render(request, "campaigns/playbooks.html", {
        "templates": selectors.playbooks_for(request.user, kind=kind, phase=phase),
        "kinds": EventKind.choices, "phases": Phase.choices, "kind": kind, "phase": phase,
        "events": selectors.events_for(request.user).order_by("-starts_at")[:20],
        "event_id": str(parse_id(request.GET.get("event")) or ""),
        "can_draft": policy_for(Message).allows_any(request.user, "draft"),
    })
