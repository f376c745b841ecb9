"""The desk's words for the models' choices that engage/navigation.py's ``DESK_LABELS`` does not list.

The models' choices stay English: the API and the feeds use them. The desk shows them through gettext
(``{% translate obj.get_kind_display %}``, the forms' ``_labels``, the filters of
``campaigns/templatetags/desk_words.py``); these calls only put the words in the catalogs.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

CHOICE_LABELS = (
    # campaigns.models: EventKind, Phase, RiskLevel
    gettext_noop("Planned event (match, festival, parade, rally)"), gettext_noop("Spontaneous gathering"),
    gettext_noop("Protest"), gettext_noop("Disorder"), gettext_noop("Encampment"),
    gettext_noop("Before"), gettext_noop("During"), gettext_noop("After"),
    gettext_noop("Low"), gettext_noop("Medium"), gettext_noop("High"), gettext_noop("Critical"),
    # ChannelKind, ChannelHealth
    gettext_noop("Mastodon"), gettext_noop("Telegram"), gettext_noop("X"), gettext_noop("Facebook Page"),
    gettext_noop("SMS gateway"), gettext_noop("Email list"), gettext_noop("Partner webhook"),
    gettext_noop("Public news pages and feeds"),
    gettext_noop("Not checked yet"), gettext_noop("OK"), gettext_noop("Sign-in expired"), gettext_noop("Failing"),
    gettext_noop("Working, with a warning"),
    # Need, RumourStatus, ApprovalKind
    gettext_noop("Easy read"), gettext_noop("Large text"), gettext_noop("Screen reader"),
    gettext_noop("Sign-language video"), gettext_noop("Low bandwidth"),
    gettext_noop("Unverified"), gettext_noop("Confirmed"), gettext_noop("False"),
    gettext_noop("Approval"), gettext_noop("Second approval"), gettext_noop("Emergency self-approval"),
    gettext_noop("Emergency review"),
    # engage.models: TemplatePurpose, TemplateApprovalKind, AnswerKind
    gettext_noop("Urgent: someone may be in danger"), gettext_noop("General answer"),
    gettext_noop("Approved by a second supervisor"),
    gettext_noop("Emergency: approved by its author, reviewed afterwards"), gettext_noop("Shipped with Engage"),
    gettext_noop("Approved before the two-person rule: review it"),
    gettext_noop("Pre-approved template"), gettext_noop("Automatic urgent answer"),
    gettext_noop("Free text (approved as a message)"),
)
