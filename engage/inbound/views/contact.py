"""The public pages where citizens write in: the contact form (one per force), the reply form under a
news item, and how we use the messages people send. Mounted in the ``public`` namespace
(``public_urlpatterns`` in engage/inbound/urls.py)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Team
from accounts.teams import lineage, parent_map
from campaigns.models import Message
from core.errors import ServiceError
from core.ratelimit import over_limit
from engage.inbound import policies
from engage.inbound.forms import PublicReplyForm
from engage.inbound.ingest import contact_force, contact_team_for, public_contact_team, reply_submit_public
from engage.public.i18n import in_visitor_language

FORM_LIMITS = ((60, 5, "minute"), (86400, 30, "day"))  # (seconds, submissions, name) per address


def _rate_limited(request: HttpRequest) -> bool:
    return over_limit(request, prefix="public-form", limits=FORM_LIMITS)


CATEGORY_LABELS = {  # for the public pages, in the visitor's language
    "question": pgettext_lazy("kind of message", "questions"),
    "information": pgettext_lazy("kind of message", "information and tips"),
    "complaint": pgettext_lazy("kind of message", "complaints"),
    "praise": pgettext_lazy("kind of message", "thanks"),
    "rumour": pgettext_lazy("kind of message", "reports of rumours"),
    "emergency": pgettext_lazy("kind of message", "emergencies"),
    "crime_report": pgettext_lazy("kind of message", "crime reports"),
    "abuse": pgettext_lazy("kind of message", "abuse"),
    "spam": pgettext_lazy("kind of message", "spam"),
}


def _retention_facts(team: Team | None) -> list[tuple[str, int]]:
    days = policies.retention_days(team_id=team.pk) if team else dict(policies.DEFAULT_RETENTION_DAYS)
    return sorted(((str(CATEGORY_LABELS.get(c, c)), d) for c, d in days.items() if c),
                  key=lambda item: (item[1], item[0]))


def _public_form(request: HttpRequest, *, team: Team | None, message: Message | None) -> HttpResponse:
    force = Team.objects.get(pk=lineage(team.pk, parent_map())[-1]) if team is not None else None
    context: dict[str, Any] = {"team": team, "force": force, "news": message, "retention": _retention_facts(team),
                               "longest": max(policies.retention_days(team_id=team.pk).values()) if team else 365}
    if team is None:
        raise Http404("The contact form is not set up.")
    if request.method == "POST":
        if _rate_limited(request):
            context["form"] = PublicReplyForm()
            context["throttled"] = True
            return render(request, "engage/contact.html", context, status=429)
        form = PublicReplyForm(request.POST)
        if form.is_bot:
            return render(request, "engage/contact.html", {**context, "submitted": True})
        if form.is_valid():
            d = form.cleaned_data
            try:
                reply_submit_public(team=team, message=message, text=d["text"], contact=d["contact"],
                                    name=d["name"], nonce=d["nonce"], language=request.LANGUAGE_CODE or "")
            except ServiceError as exc:
                form.add_error("text", exc.message)
            else:
                return render(request, "engage/contact.html", {**context, "submitted": True,
                                                               "gave_contact": bool(d["contact"])})
        context["form"] = form
        return render(request, "engage/contact.html", context, status=400)
    context["form"] = PublicReplyForm()
    return render(request, "engage/contact.html", context)


@never_cache  # the page carries a CSRF token and a one-time form id: never from a shared cache
@require_http_methods(["GET", "POST"])
@in_visitor_language
def contact(request: HttpRequest, force: str | None = None) -> HttpResponse:
    """``/contact/<force>/``: that force's form. ``/contact/``: the deployment's default force
    (ENGAGE_DEFAULT_CONTACT_FORCE); with none set and several forces, a list to choose from."""
    chosen = contact_force(force)
    if chosen is None:
        if force is None and request.method == "GET":
            forces = list(Team.objects.filter(parent__isnull=True).order_by("name"))
            if forces:
                return render(request, "engage/contact_choose.html", {"forces": forces})
        raise Http404("No such contact form.")
    return _public_form(request, team=contact_team_for(chosen), message=None)


@never_cache
@require_http_methods(["GET", "POST"])
@in_visitor_language
def news_reply(request: HttpRequest, pk: int) -> HttpResponse:
    from engage.public import selectors as public_selectors

    message = public_selectors.published_messages().filter(pk=pk).first()
    if message is None:
        raise Http404("No such news item.")
    return _public_form(request, team=message.team, message=message)


@require_safe
@in_visitor_language
def how_we_use_messages(request: HttpRequest) -> HttpResponse:
    team = public_contact_team()
    return render(request, "engage/how_we_use_messages.html", {"team": team, "retention": _retention_facts(team)})
