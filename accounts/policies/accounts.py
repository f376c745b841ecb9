"""The policies of the accounts models: teams and the audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts import permissions
from accounts.models import AuditEvent, Membership, Role, Team, User
from accounts.policies.base import ModelPolicy, register

ADMINS = frozenset({Role.ADMIN})


class TeamPolicy(ModelPolicy):
    """A team is its own team: "the teams where the user may draft" is ``queryset(user, "draft")``."""

    team_path = ""


class AuditEventPolicy(ModelPolicy):
    """Administrators see their teams' events, and the events with no team (sign-ins, exports) whose
    actor is a member of one of their teams."""

    actions = ("view",)
    action_roles = {"view": ADMINS}

    def condition(self, user: Any, action: str = "view") -> Q:
        visible = self.team_ids(user, action)
        members = Membership.objects.filter(team_id__in=visible).values("user_id")
        return Q(team_id__in=visible) | Q(team__isnull=True, actor_id__in=members)

    def may(self, user: Any, action: str, obj: Any) -> bool:
        self._roles(action)
        if obj.team_id is not None:
            return permissions.has_role(user, obj.team_id, ADMINS)
        visible = self.team_ids(user, action)
        return bool(visible and obj.actor_id
                    and Membership.objects.filter(Q(team_id__in=visible), user_id=obj.actor_id).exists())


class UserPolicy(ModelPolicy):
    """The people a user may see (name in a filter, assign): members of the user's teams and of the
    teams above them (the force's officers)."""

    actions = ("view",)

    def condition(self, user: Any, action: str = "view") -> Q:
        self._roles(action)
        return Q(memberships__team_id__in=permissions.team_ids_with_ancestors(user))

    def may(self, user: Any, action: str, obj: Any) -> bool:
        self._roles(action)
        teams = permissions.team_ids_with_ancestors(user)
        return bool(teams) and Membership.objects.filter(user_id=obj.pk, team_id__in=teams).exists()


def register_all() -> None:
    register(Team, TeamPolicy())
    register(AuditEvent, AuditEventPolicy())
    register(User, UserPolicy())
