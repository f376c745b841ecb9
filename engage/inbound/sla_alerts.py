"""A reply that passes its response time unanswered: its assignee hears, or (nobody has it) the team's
liaison officers on duty (else all of them), once per reply, each as they chose (``accounts.notify``).
The sweeper runs it every few seconds; a reply is claimed by a conditional update, so it is told once."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from accounts.notify import notify
from engage.models import OPEN_STATUSES, Reply

BATCH = 200


def replies_alert_overdue() -> int:
    """Alert about the open, unanswered replies past their due time not yet alerted; returns how many."""
    now = timezone.now()
    due = list(Reply.objects.filter(status__in=OPEN_STATUSES, first_response_at__isnull=True, sla_due_at__lt=now,
                                    sla_alerted_at__isnull=True, redacted_at__isnull=True)
               .values_list("pk", "team_id", "assignee_id")[:BATCH])
    told = 0
    for pk, team_id, assignee_id in due:
        if not Reply.objects.filter(pk=pk, sla_alerted_at__isnull=True).update(sla_alerted_at=now):
            continue  # another sweeper told them
        url = reverse("inbox:detail", kwargs={"pk": pk})
        if assignee_id:
            notify("reply_overdue", team=team_id, also=assignee_id, url=url,
                   text=f"Reply {pk}, assigned to you, has passed its response time without an answer.")
        else:
            notify("reply_overdue_unassigned", team=team_id, url=url,
                   text=f"Reply {pk} has passed its response time, unassigned and unanswered.")
        told += 1
    return told
