"""Navigation that fits the signed-in user's roles, and the publishing-pause banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts import permissions
from accounts.models import Notification, Team
from accounts.policies import policy_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    teams = policy_for(Team)
    drafter, supervisor = teams.allows_any(user, "draft"), teams.allows_any(user, "supervise")
    triager, admin = teams.allows_any(user, "triage"), teams.allows_any(user, "administer")
    items: list[tuple[str, str]] = []
    if drafter:
        items.append(("Messages", reverse("campaigns:messages")))
    if supervisor:
        items.append(("Review", reverse("campaigns:review")))
    if drafter:
        items.append(("Calendar", reverse("campaigns:calendar")))
    if teams.allows_any(user, "view"):
        items.append(("Events", reverse("campaigns:events")))
        items.append(("Dashboard", reverse("dashboard:index")))
    if drafter:
        items.append(("Segments", reverse("campaigns:segments")))
        items.append(("Playbooks", reverse("campaigns:playbooks")))
    if triager:
        items.append(("Inbox", reverse("inbox:list")))
    if triager or supervisor or admin:
        items.append(("Publishing", reverse("campaigns:publishing")))
    if admin:
        items.append(("Channels", reverse("campaigns:channels")))
        items.append(("Audit trail", reverse("desk_accounts:audit")))
    from campaigns.selectors import pause_banner

    return {
        "nav_items": items,
        "nav_role": permissions.primary_role(user),
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "pause_banner": pause_banner(user),
    }
