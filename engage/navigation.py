"""Navigation that fits the signed-in user's roles, and the publishing-pause banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts import permissions
from accounts.models import Notification, Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    teams = permissions.team_ids(user)
    drafter = bool(permissions.team_ids(user, {Role.OFFICER, Role.SUPERVISOR}))
    supervisor = bool(permissions.team_ids(user, {Role.SUPERVISOR}))
    triager = bool(permissions.team_ids(user, {Role.LIAISON, Role.SUPERVISOR}))
    admin = bool(permissions.team_ids(user, {Role.ADMIN}))
    items: list[tuple[str, str]] = []
    if drafter:
        items.append(("Messages", reverse("campaigns:messages")))
    if supervisor:
        items.append(("Review", reverse("campaigns:review")))
    if drafter:
        items.append(("Calendar", reverse("campaigns:calendar")))
    if teams:
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
