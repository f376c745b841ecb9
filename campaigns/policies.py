"""The permission policies of the campaigns models (``accounts.policies``), registered in ready().

Most rows belong to a team directly or through their message, event, rumour or channel; the policy
knows the path. A few add a rule of their own: the second person of the two-person rule on a
message, and the pauses a user is told about.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts import permissions
from accounts.policies import ModelPolicy, register
from accounts.teams import parent_map, with_ancestors
from campaigns.models import (
    Campaign,
    Channel,
    Comment,
    Delivery,
    Event,
    EventRevision,
    ListRecipient,
    Message,
    MessageVersion,
    PlaybookTemplate,
    PublishingPause,
    Rumour,
    RumourChange,
    RumourVerdict,
    Segment,
    Variant,
)


class MessagePolicy(ModelPolicy):
    """Adds "approve" (a supervisor of the team who wrote none of it) and "review_emergency" (a
    supervisor of the team who is not the author: the review after a self-approved emergency)."""

    actions = ModelPolicy.actions + ("approve", "review_emergency")
    action_roles = {"approve": frozenset({"supervisor"}), "review_emergency": frozenset({"supervisor"})}

    def may(self, user: Any, action: str, obj: Any) -> bool:
        if action == "approve":
            return permissions.can_approve(user, obj)
        if action == "review_emergency":
            return permissions.can_review_emergency(user, obj)
        return super().may(user, action, obj)

    def condition(self, user: Any, action: str = "view") -> Q:
        condition = super().condition(user, action)
        if action in ("approve", "review_emergency"):
            condition &= ~Q(author_id=user.pk)
        if action == "approve":
            condition &= ~Q(pk__in=MessageVersion.objects.filter(created_by_id=user.pk).values("message_id"))
        return condition


class PausePolicy(ModelPolicy):
    """The pauses that concern a user: platform-wide ones, and those of their teams and the teams
    above them. Another force's pauses (names, reasons) are not shown; platform operators see all."""

    actions = ("view",)

    def _lineage(self, user: Any) -> set[int]:
        return with_ancestors(permissions.team_ids(user), parent_map())

    def condition(self, user: Any, action: str = "view") -> Q:
        self._roles(action)
        if permissions.is_platform_operator(user):
            return Q()
        return Q(team__isnull=True) | self.team_condition(self._lineage(user))

    def may(self, user: Any, action: str, obj: Any) -> bool:
        self._roles(action)
        return permissions.is_platform_operator(user) or obj.team_id is None or obj.team_id in self._lineage(user)


def register_all() -> None:
    for model in (Campaign, Channel, Segment, Event):
        register(model, ModelPolicy())
    register(Message, MessagePolicy())
    for model in (Delivery, Variant, MessageVersion, Comment):
        register(model, ModelPolicy(team_path="message__team"))
    register(EventRevision, ModelPolicy(team_path="event__team"))
    register(Rumour, ModelPolicy(team_path="event__team"))
    for model in (RumourVerdict, RumourChange):
        register(model, ModelPolicy(team_path="rumour__event__team"))
    register(ListRecipient, ModelPolicy(team_path="channel__team"))
    register(PlaybookTemplate, ModelPolicy(shared_without_team=True))
    register(PublishingPause, PausePolicy())
