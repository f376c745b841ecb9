"""Staff pages for rumour control: officers register claims and write verdicts; a second person,
a supervisor, publishes each verdict (or, in an emergency, its author does and another reviews)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.models import Role
from accounts.policies import policy_for
from campaigns import selectors
from campaigns.forms_cap import RumourForm, RumourStatusForm
from campaigns.models import Event, Rumour, RumourChange, RumourVerdict
from campaigns.services import rumours as rumour_services
from campaigns.views import forbidden
from core.web import run_service


@login_required
@require_http_methods(["GET", "POST"])
def rumour_board(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.events_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    can_add = policy_for(Event).may(request.user, "draft", event)
    can_decide = policy_for(Event).may(request.user, "draft", event)
    is_supervisor = policy_for(Event).may(request.user, "supervise", event)
    form = RumourForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            return forbidden(request, gettext("Only officers and supervisors of this team register rumours."))
        if form.is_valid() and run_service(request, rumour_services.rumour_create, event=event,
                                           claim=form.cleaned_data["claim"],
                                           success=gettext("Rumour registered. Write what we know; a "
                                                           "supervisor publishes it.")):
            return redirect("campaigns:rumours", pk=event.pk)
    rumours = list(Rumour.objects.filter(event=event).select_related("created_by").prefetch_related(
        Prefetch("changes", queryset=RumourChange.objects.select_related("actor").order_by("-created_at", "-id")),
        Prefetch("verdicts", queryset=RumourVerdict.objects.select_related(
            "author", "published_by", "emergency_reviewed_by").order_by("-number")))
        .order_by("published_at", "-status_changed_at", "-created_at"))
    rows = []
    for r in rumours:
        verdicts = list(r.verdicts.all())
        pending = next((v for v in verdicts if v.is_pending), None)
        writers = rumour_services.verdict_writers(r, pending) if pending else set()
        rows.append({
            "rumour": r, "pending": pending,
            "can_publish": bool(pending and permissions.can_publish_rumour_verdict(
                request.user, event.team_id, writers=writers)),
            "can_emergency": bool(pending and is_supervisor and request.user.pk in writers),
            "to_review": [v for v in verdicts if v.emergency and v.emergency_reviewed_at is None
                          and permissions.can_review_emergency_publication(request.user, event.team_id,
                                                                           publisher_id=v.published_by_id)],
            "awaiting_review": [v for v in verdicts if v.emergency and v.emergency_reviewed_at is None],
            "form": RumourStatusForm(prefix=f"r{r.pk}", initial={
                "status": pending.status if pending else r.status,
                "explanation": pending.explanation if pending else r.explanation}),
        })
    return render(request, "campaigns/rumours.html", {
        "event": event, "rows": rows, "form": form, "can_add": can_add, "can_decide": can_decide,
        "event_is_public": event.public_version() is not None,
    })


def _visible_rumour(request: HttpRequest, pk: int) -> Rumour:
    rumour = policy_for(Rumour).queryset(request.user, "view").filter(pk=pk).select_related("event").first()
    if rumour is None:
        raise Http404("No such rumour.")
    return rumour


def _visible_verdict(request: HttpRequest, pk: int) -> RumourVerdict:
    verdict = (policy_for(RumourVerdict).queryset(request.user, "view").filter(pk=pk).select_related("rumour")
               .first())
    if verdict is None:
        raise Http404("No such verdict.")
    return verdict


def _back(rumour: Rumour) -> HttpResponse:
    return redirect(reverse("campaigns:rumours", kwargs={"pk": rumour.event_id}) + f"#rumour-{rumour.pk}")


@login_required
@require_POST
def rumour_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Write a verdict version (not public until a second person publishes it)."""
    rumour = _visible_rumour(request, pk)
    if not policy_for(Rumour).may(request.user, "draft", rumour):
        return forbidden(request, gettext("Only officers and supervisors of this team write what we say about a rumour."))
    form = RumourStatusForm(request.POST, prefix=f"r{rumour.pk}")
    if form.is_valid():
        run_service(request, rumour_services.rumour_verdict_write, rumour=rumour, status=form.cleaned_data["status"],
                    explanation=form.cleaned_data["explanation"],
                    success=gettext("Verdict saved. Another supervisor publishes it on the event's live page."))
    else:
        flash.error(request, gettext("Choose a status and explain it: %(problems)s") % {
            "problems": "; ".join(e for errors in form.errors.values() for e in errors)})
    return _back(rumour)


@login_required
@require_POST
def rumour_verdict_publish(request: HttpRequest, pk: int) -> HttpResponse:
    verdict = _visible_verdict(request, pk)
    team_id = verdict.rumour.event.team_id
    if not permissions.has_role(request.user, team_id, {Role.SUPERVISOR}):
        return forbidden(request, gettext("Only a supervisor of this team publishes what we say about a rumour."))
    emergency = request.POST.get("emergency") in ("on", "true", "1")
    run_service(request, rumour_services.rumour_verdict_publish, verdict=verdict,
                expected_hash=request.POST.get("content_hash", ""), emergency=emergency,
                success=gettext("Published on the event's live page. As an emergency, it now waits for a second "
                                "supervisor's review.") if emergency else gettext("Published on the event's live page."))
    return _back(verdict.rumour)


@login_required
@require_POST
def rumour_verdict_review(request: HttpRequest, pk: int) -> HttpResponse:
    verdict = _visible_verdict(request, pk)
    if not policy_for(RumourVerdict).may(request.user, "supervise", verdict):
        return forbidden(request, gettext("Only a second supervisor of this team reviews an emergency verdict."))
    run_service(request, rumour_services.rumour_verdict_review, verdict=verdict,
                comment=request.POST.get("comment", ""), success=gettext("Emergency verdict reviewed."))
    return _back(verdict.rumour)
