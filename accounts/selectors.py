"""Reads for accounts views and APIs."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import AuditEvent, AuditHeadPublication, Membership, Team, User
from accounts.policies import policy_for


def teams_for(user: User) -> QuerySet[Team]:
    return policy_for(Team).queryset(user, "view").order_by("name")


def memberships_for(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def audit_events(
    *,
    user: User,
    verb: str = "",
    actor: str = "",
    target_type: str = "",
    target_id: str = "",
    team: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    # Admins see their teams' events, and events with no team (sign-ins, exports) by their own teams' members.
    qs = policy_for(AuditEvent).queryset(user, "view", AuditEvent.objects.select_related("team", "actor"))
    if verb:
        qs = qs.filter(verb__startswith=verb)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    if team:
        qs = qs.filter(team_id=team)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")


def audit_head_publications() -> QuerySet[AuditHeadPublication]:
    """The published audit chain heads, newest first (public: ids and hashes only)."""
    return AuditHeadPublication.objects.order_by("-published_at", "-id")
