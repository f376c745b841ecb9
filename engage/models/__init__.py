"""The inbound room's data: citizens' replies and the team policies that govern them."""

from engage.models.drops import InboundDrop  # noqa: F401 (ignored inbound items, counted; issue 13)
from engage.models.feedback import AnswerFeedback  # noqa: F401 (the trust signal, issue 8)
from engage.models.metrics import MetricsRollup, MetricsRollupState  # noqa: F401 (the metrics summary)
from engage.models.policies import (
    AnswerTemplate,
    AnswerTemplateVersion,
    CategoryRule,
    RetentionPolicy,
    SlaPolicy,
    TemplateApprovalKind,
    TemplatePurpose,
)
from engage.models.replies import (
    OPEN_STATUSES,
    AnswerKind,
    AnswerStatus,
    ClassificationCorrection,
    InboundCursor,
    RejectedInbound,
    Reply,
    ReplyAnswer,
    ReplyCampaign,
    ReplyNote,
    ReplySource,
    ReplyStatus,
)

__all__ = [
    "OPEN_STATUSES", "AnswerKind", "AnswerStatus", "AnswerTemplate", "CategoryRule", "ClassificationCorrection",
    "InboundCursor", "InboundDrop", "RejectedInbound", "Reply", "ReplyAnswer", "ReplyCampaign", "ReplyNote", "ReplySource",
    "ReplyStatus", "RetentionPolicy", "SlaPolicy", "TemplatePurpose", "AnswerTemplateVersion", "TemplateApprovalKind",
]
