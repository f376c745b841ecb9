from campaigns.models.campaigns import Campaign, PlaybookTemplate
from campaigns.models.channels import Channel, ChannelHealth, ChannelKind
from campaigns.models.deliveries import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    PublishingPause,
    RestoreReport,
)
from campaigns.models.events import (
    PUBLIC_EVENT_FIELDS,
    Event,
    EventKind,
    EventRevision,
    Phase,
    RiskLevel,
    phase_at,
    snapshot_hash,
)
from campaigns.models.messages import (
    APPROVED_STATES,
    EDITABLE_STATES,
    Approval,
    ApprovalKind,
    Comment,
    MediaAsset,
    Message,
    MessageStatus,
    MessageVersion,
    Urgency,
    Variant,
    VariantFormat,
)
from campaigns.models.recipients import ListRecipient
from campaigns.models.rumours import Rumour, RumourChange, RumourStatus, RumourVerdict
from campaigns.models.segments import Need, Partner, Segment

__all__ = [
    "APPROVED_STATES", "EDITABLE_STATES", "Approval", "ApprovalKind", "Campaign", "Channel", "ChannelHealth",
    "ChannelKind", "Comment", "ListRecipient", "Delivery", "DeliveryAttempt", "DeliveryStatus", "Event", "EventKind", "MediaAsset",
    "Message", "MessageStatus", "MessageVersion", "Need", "Partner", "Phase", "PlaybookTemplate", "PublishingPause",
    "RestoreReport", "RiskLevel", "Segment", "Urgency", "Variant", "VariantFormat", "phase_at",
    "PUBLIC_EVENT_FIELDS", "EventRevision", "snapshot_hash",
    "Rumour", "RumourChange", "RumourStatus", "RumourVerdict",
]
