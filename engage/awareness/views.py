"""The desk's awareness pages: the watches (with approval), setting one up, and the buttons of the
event page's panel (approve, stop, make a rumour, dismiss). One view per action; the services check
the permission and the state, and refuse with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from campaigns import selectors as campaign_selectors
from campaigns.views import forbidden
from core.web import run_service
from engage.awareness import selectors, services
from engage.awareness.forms import WatchForm
from engage.awareness.models import RumourCandidate


def _event_page(event_id: int) -> str:
    return reverse("campaigns:event", kwargs={"pk": event_id}) + "#awareness"


@login_required
@require_safe
def watch_list(request: HttpRequest) -> HttpResponse:
    watches = list(selectors.watches_for(request.user).order_by("-window_start")[:100])
    return render(request, "engage/awareness/watches.html", {"watches": watches})


@login_required
@require_http_methods(["GET", "POST"])
def watch_new(request: HttpRequest, pk: int) -> HttpResponse:
    event = campaign_selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    if not permissions.can_set_up_watch(request.user, event.team_id):
        return forbidden(request, gettext("Only a supervisor of this event's team sets up a watch."))
    start, end = services.next_window_default(event)
    form = WatchForm(request.POST or None, initial={"window_start": start, "window_end": end,
                                                    "hashtags": " ".join(event.hashtags)})
    if request.method == "POST" and form.is_valid():
        watch = run_service(request, services.watch_create, event=event, **form.cleaned_data,
                            success=gettext("Watch set up. It starts once a second supervisor approves it."))
        if watch is not None:
            return redirect("awareness:list")
    return render(request, "engage/awareness/watch_form.html", {"form": form, "event": event}, status=200)


def _watch_action(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    watch = selectors.watch_for(request.user, pk)
    if watch is None:
        raise Http404("No such watch.")
    run_service(request, service, watch_id=pk, success=success)
    return redirect(request.POST.get("next") == "event" and _event_page(watch.event_id) or reverse("awareness:list"))


@login_required
@require_POST
def watch_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _watch_action(request, pk, services.watch_approve, gettext("Watch approved: it runs inside its window."))


@login_required
@require_POST
def watch_stop(request: HttpRequest, pk: int) -> HttpResponse:
    return _watch_action(request, pk, services.watch_stop, gettext("Watch stopped."))


def _candidate_event(request: HttpRequest, pk: int) -> int:
    event_id = (RumourCandidate.objects.filter(pk=pk, watch__in=selectors.watches_for(request.user))
                .values_list("watch__event_id", flat=True).first())
    if event_id is None:
        raise Http404("No such rumour candidate.")
    return event_id


@login_required
@require_POST
def candidate_promote(request: HttpRequest, pk: int) -> HttpResponse:
    event_id = _candidate_event(request, pk)
    rumour = run_service(request, services.candidate_promote, candidate_id=pk)
    if rumour is not None:
        messages.success(request, gettext("Added to the rumour board. Its verdict goes through the board's approval."))
        return redirect("campaigns:rumours", pk=event_id)
    return redirect(_event_page(event_id))


@login_required
@require_POST
def candidate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    event_id = _candidate_event(request, pk)
    run_service(request, services.candidate_dismiss, candidate_id=pk, success=gettext("Candidate dismissed."))
    return redirect(_event_page(event_id))
