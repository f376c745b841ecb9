"""The permission policies of the engage models (``accounts.policies``), registered in ready().

Who sees a reply: liaison officers, supervisors and administrators of its team (or of a team above
it). A reply in the restricted queue is seen only by users with the intelligence-liaison permission
for its team (``permissions.can_see_restricted_queue``). Notes, answers and corrections of a reply
follow their reply. Other actions on a reply ("triage", "draft", "oversee", "administer") are the
team's roles, as ``ACTION_ROLES`` says.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts import permissions
from accounts.policies import ACTION_ROLES, ModelPolicy, register
from engage.models import (
    AnswerFeedback,
    AnswerTemplate,
    AnswerTemplateVersion,
    CategoryRule,
    ClassificationCorrection,
    MetricsRollup,
    Reply,
    ReplyAnswer,
    ReplyCampaign,
    ReplyNote,
    RetentionPolicy,
    SlaPolicy,
)

INBOX_ROLES = ACTION_ROLES["inbox"]


class ReplyPolicy(ModelPolicy):
    """``reply``: the path from the model to its reply ("" for the reply itself)."""

    reply = ""

    def __init__(self, reply: str = "") -> None:
        super().__init__()
        self.reply = reply
        self.team_path = f"{reply}__team" if reply else "team"

    def restricted_team_ids(self, user: Any) -> set[int]:
        """The teams whose restricted queue the user may see."""
        return {t for t in permissions.team_ids(user) if permissions.can_see_restricted_queue(user, t)}

    def condition(self, user: Any, action: str = "view") -> Q:
        if action != "view":
            return super().condition(user, action)
        prefix = f"{self.reply}__" if self.reply else ""
        teams, restricted = self.team_ids(user, "inbox"), self.restricted_team_ids(user)
        condition = Q(**{f"{prefix}team_id__in": teams, f"{prefix}restricted": False})
        if restricted:
            condition |= Q(**{f"{prefix}team_id__in": restricted, f"{prefix}restricted": True})
        return condition

    def may(self, user: Any, action: str, obj: Any) -> bool:
        if action != "view":
            return super().may(user, action, obj)
        reply = getattr(obj, self.reply) if self.reply else obj
        if reply.restricted:
            return permissions.can_see_restricted_queue(user, reply.team_id)
        return permissions.has_role(user, reply.team_id, INBOX_ROLES)


def register_all() -> None:
    register(Reply, ReplyPolicy())
    for model in (ReplyAnswer, ReplyNote, ClassificationCorrection):
        register(model, ReplyPolicy("reply"))
    for model in (AnswerFeedback, MetricsRollup, RetentionPolicy, SlaPolicy, ReplyCampaign):
        register(model, ModelPolicy())
    register(AnswerTemplate, ModelPolicy(shared_without_team=True))
    register(AnswerTemplateVersion, ModelPolicy(team_path="template__team", shared_without_team=True))
    register(CategoryRule, ModelPolicy(shared_without_team=True))
