"""Staff pages for rumour control: officers register claims, supervisors decide and explain."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from campaigns import selectors
from campaigns.forms_cap import RumourForm, RumourStatusForm
from campaigns.models import Rumour, RumourChange
from campaigns.services import rumours as rumour_services
from campaigns.views import forbidden
from engage.common.web import run_service


@login_required
@require_http_methods(["GET", "POST"])
def rumour_board(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    can_add = permissions.can_manage_events(request.user, event.team_id)
    can_decide = permissions.can_set_rumour_status(request.user, event.team_id)
    form = RumourForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            return forbidden(request, "Only officers and supervisors of this team register rumours.")
        if form.is_valid() and run_service(request, rumour_services.rumour_create, event=event,
                                           claim=form.cleaned_data["claim"],
                                           success="Rumour registered. A supervisor decides what we say about it."):
            return redirect("campaigns:rumours", pk=event.pk)
    rumours = list(Rumour.objects.filter(event=event).select_related("created_by").prefetch_related(
        Prefetch("changes", queryset=RumourChange.objects.select_related("actor").order_by("-created_at", "-id")))
        .order_by("published_at", "-status_changed_at", "-created_at"))
    rows = [{"rumour": r, "form": RumourStatusForm(prefix=f"r{r.pk}", initial={"status": r.status,
                                                                                "explanation": r.explanation})}
            for r in rumours]
    return render(request, "campaigns/rumours.html", {
        "event": event, "rows": rows, "form": form, "can_add": can_add, "can_decide": can_decide,
    })


@login_required
@require_POST
def rumour_status(request: HttpRequest, pk: int) -> HttpResponse:
    rumour = Rumour.objects.filter(pk=pk, event__team_id__in=permissions.team_ids(request.user)).first()
    if rumour is None:
        raise Http404("No such rumour.")
    if not permissions.can_set_rumour_status(request.user, rumour.event.team_id):
        return forbidden(request, "Only a supervisor of this team says whether a rumour is true.")
    form = RumourStatusForm(request.POST, prefix=f"r{rumour.pk}")
    if form.is_valid():
        run_service(request, rumour_services.rumour_set_status, rumour=rumour, status=form.cleaned_data["status"],
                    explanation=form.cleaned_data["explanation"], success="Published on the event's live page.")
    else:
        flash.error(request, "Choose a status and explain it: " + "; ".join(
            e for errors in form.errors.values() for e in errors))
    return redirect(reverse("campaigns:rumours", kwargs={"pk": rumour.event_id}) + f"#rumour-{rumour.pk}")
