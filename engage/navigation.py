"""Navigation that fits the signed-in user's roles, and the publishing-pause banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

from accounts import permissions
from accounts.models import Notification, Team
from accounts.policies import policy_for

# The labels of the statuses, urgencies and formats the desk shows (the models' choices stay English: the API
# and the public feeds use them). Desk templates translate them with {% translate label %}.
DESK_LABELS = (
    gettext_noop("Routine"), gettext_noop("Priority"), gettext_noop("Emergency"),
    gettext_noop("Draft"), gettext_noop("In review"), gettext_noop("Changes requested"), gettext_noop("Approved"),
    gettext_noop("Scheduled"), gettext_noop("Publishing"), gettext_noop("Published"),
    gettext_noop("Partially published"), gettext_noop("Failed"), gettext_noop("Withdrawn"),
    gettext_noop("Standard"), gettext_noop("Easy read"), gettext_noop("SMS short"),
    gettext_noop("Pending"), gettext_noop("Sending"), gettext_noop("Sent"),
    gettext_noop("Unconfirmed: check before reposting"), gettext_noop("Skipped"),
    gettext_noop("New"), gettext_noop("Triaged"), gettext_noop("Assigned"), gettext_noop("Answered"),
    gettext_noop("Closed"), gettext_noop("Escalated"),
    # Length units of the message page's counts (platforms/counting.py).
    gettext_noop("characters"), gettext_noop("weighted characters"), gettext_noop("septets"),
    gettext_noop("UTF-16 code units"),
)
# Django's timesince ("3 minutes ago" in the review queue): its own Welsh catalog lacks these words,
# ours has them (locale/ comes first).
TIMESINCE_WORDS = (
    ngettext_lazy("%(num)d year", "%(num)d years", "num"), ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    ngettext_lazy("%(num)d week", "%(num)d weeks", "num"), ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
)
ROLE_LABELS = {"officer": pgettext_lazy("role", "officer"), "supervisor": pgettext_lazy("role", "supervisor"),
               "liaison": pgettext_lazy("role", "liaison"), "admin": pgettext_lazy("role", "admin")}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    teams = policy_for(Team)
    drafter, supervisor = teams.allows_any(user, "draft"), teams.allows_any(user, "supervise")
    triager, admin = teams.allows_any(user, "triage"), teams.allows_any(user, "administer")
    items: list[tuple[str, str]] = []
    if drafter:
        items.append((_("Messages"), reverse("campaigns:messages")))
    if supervisor:
        items.append((_("Review"), reverse("campaigns:review")))
    if drafter:
        items.append((_("Calendar"), reverse("campaigns:calendar")))
    if teams.allows_any(user, "view"):
        items.append((_("Events"), reverse("campaigns:events")))
        items.append((_("Dashboard"), reverse("dashboard:index")))
    if drafter:
        items.append((_("Segments"), reverse("campaigns:segments")))
        items.append((_("Playbooks"), reverse("campaigns:playbooks")))
    if triager:
        items.append((_("Inbox"), reverse("inbox:list")))
    if supervisor:
        items.append((_("Awareness"), reverse("awareness:list")))
    if triager or supervisor or admin:
        items.append((_("Publishing"), reverse("campaigns:publishing")))
    if admin:
        items.append((_("Channels"), reverse("campaigns:channels")))
        items.append((_("Audit trail"), reverse("desk_accounts:audit")))
    from campaigns.selectors import pause_banner
    from engage.public.i18n import desk_reviewed

    role = permissions.primary_role(user)
    language = translation.get_language() or "en"

    return {
        "nav_items": items,
        "nav_role": role,
        "nav_role_label": str(ROLE_LABELS.get(role or "", role or "")),
        # Words not yet read by a native speaker: the desk says so, as the public pages do.
        "desk_translation_note": not desk_reviewed(language),
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "pause_banner": pause_banner(user),
    }
