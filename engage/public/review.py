"""The supervisors' list of public words waiting for a second person: event drafts, rumour verdicts
and answer templates (to publish or approve, and emergency self-publications to review)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.policies import policy_for
from campaigns import selectors
from campaigns.views import forbidden
from engage.inbound import policies
from engage.models import AnswerTemplateVersion


@login_required
@require_safe
def public_words(request: HttpRequest) -> HttpResponse:
    teams = policy_for(AnswerTemplateVersion).team_ids(request.user, "supervise")
    if not teams:
        return forbidden(request, "Only supervisors publish and approve public words.")
    templates = list(policies.pending_template_versions(teams))
    return render(request, "engage/review_public_words.html", {
        "events": selectors.event_drafts_to_publish(request.user),
        "verdicts": selectors.rumour_verdicts_to_review(request.user),
        "templates": [v for v in templates if v.is_pending],
        "template_reviews": [v for v in templates if not v.is_pending],
    })
