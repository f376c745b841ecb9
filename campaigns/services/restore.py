"""After a restore from a backup: every force comes up paused, with a report to read first.

Deliveries that were pending or in flight when the backup was taken may have gone out since (the
old system kept running after its last backup). So, in the restored database:

* every force (top-level team) gets a publishing pause placed by the system, with a
  :class:`~campaigns.models.RestoreReport`;
* a delivery that was claimed or in flight (``sending``), or pending and already due, becomes
  *unconfirmed*: it may be on the platform already, so it is checked (by a person, or by the
  platform look-up where one exists), never resent blindly;
* a pending delivery due later stays pending; the pause holds it until a supervisor has read the
  report and resumes (``publishing_resume`` refuses to lift a restore pause before that).

``engage.backup.restore`` calls :func:`publishing_hold_after_restore` once the database is loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Team
from accounts.notify import notify
from accounts.teams import parent_map
from campaigns.models import Delivery, DeliveryStatus, MessageStatus, PublishingPause, RestoreReport
from campaigns.publishing.lifecycle import message_settle

RESTORE_REASON = ("Restored from a backup taken {taken}. Anything pending or in flight then may have gone out "
                  "since: read the restore report on the Publishing page before resuming.")


def _force_of(team_id: int, parents: dict[int, int | None]) -> int:
    seen: set[int] = set()
    while parents.get(team_id) is not None and team_id not in seen:
        seen.add(team_id)
        team_id = parents[team_id]  # type: ignore[assignment]
    return team_id


def _unconfirm_deliveries(*, now: datetime, taken: str) -> dict[int, list[int]]:
    """Make every delivery that may have gone out since the backup unconfirmed; by message team."""
    maybe_sent = (Delivery.objects.filter(status=DeliveryStatus.SENDING)
                  | Delivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lte=now,
                                            message__status__in=[MessageStatus.SCHEDULED,
                                                                 MessageStatus.PUBLISHING]))
    rows = list(maybe_sent.values_list("pk", "message_id", "message__team_id"))
    ids = [pk for pk, _, _ in rows]
    Delivery.objects.filter(pk__in=ids, status__in=[DeliveryStatus.SENDING, DeliveryStatus.PENDING]).update(
        status=DeliveryStatus.UNCONFIRMED, claim_token="", claimed_at=None, in_flight_since=None,
        last_error=f"Restored from a backup taken {taken}: it may have gone out after the backup. "
                   f"Check the platform before sending it again.")
    for message_id in {message_id for _, message_id, _ in rows}:
        message_settle(message_id)
    by_team: dict[int, list[int]] = {}
    for pk, _, team_id in rows:
        by_team.setdefault(team_id, []).append(pk)
    return by_team


@transaction.atomic
def publishing_hold_after_restore(*, backup_taken_at: datetime, details: dict[str, Any],
                                  answers_by_team: dict[int, list[int]] | None = None) -> list[RestoreReport]:
    """Pause every force, make what may have gone out unconfirmed, and leave one report per force.

    ``details``: what the restore knows of the backup (ids, counts and labels only); it goes into
    every force's report. ``answers_by_team``: answers to citizens the caller made unconfirmed
    (``engage.inbound.answers`` lives a floor above), by the replying team."""
    now = timezone.now()
    taken = backup_taken_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parents = parent_map()
    forces = list(Team.objects.filter(parent__isnull=True).order_by("pk"))
    deliveries = _unconfirm_deliveries(now=now, taken=taken)
    waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", "message__team_id")
    per_force: dict[int, dict[str, list[int]]] = {f.pk: {"deliveries_unconfirmed": [], "answers_unconfirmed": [],
                                                         "deliveries_waiting": []} for f in forces}
    for key, grouped in (("deliveries_unconfirmed", deliveries), ("answers_unconfirmed", answers_by_team or {})):
        for team_id, ids in grouped.items():
            per_force.setdefault(_force_of(team_id, parents), {}).setdefault(key, []).extend(ids)
    for pk, team_id in waiting:
        per_force.setdefault(_force_of(team_id, parents), {}).setdefault("deliveries_waiting", []).append(pk)
    reports = []
    for force in forces:
        pause = PublishingPause.objects.create(team=force, reason=RESTORE_REASON.format(taken=taken)[:500],
                                               paused_by=None)
        mine = {key: sorted(ids) for key, ids in per_force[force.pk].items()}
        report = RestoreReport.objects.create(pause=pause, backup_taken_at=backup_taken_at, restored_at=now,
                                              details={**details, **mine})
        reports.append(report)
        audit_record(actor=None, verb="publishing.paused_after_restore", target=pause, team=force.pk,
                     summary={"backup_taken_at": backup_taken_at.isoformat(), "report": report.pk,
                              **{key: len(ids) for key, ids in mine.items()}})
        notify("restore_report", team=force, url=reverse("campaigns:publishing"),
               text=f"{force.name} was restored from a backup taken {taken}. Publishing is paused: "
                    f"read the restore report before resuming.")
    return reports
