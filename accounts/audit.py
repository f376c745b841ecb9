"""Writing to the append-only audit trail. Services call :func:`audit_record`."""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.models import AuditEvent, Team, User
from core.client_ip import current_ip

# Summary keys that carry text a person typed (a reason, a purpose, how consent was given). Audit rows
# hold ids and labels, never a citizen's data, so that retention never has to rewrite the hash-chained
# trail: addresses, phone numbers and the like typed into such text are masked on the way in.
FREE_TEXT_KEYS = frozenset({"reason", "purpose", "consent_source"})


def _label(actor: User | None) -> str:
    return actor.email if actor is not None else "system"


def _masked(summary: dict[str, Any]) -> dict[str, Any]:
    from core.pii import mask_pii

    return {key: mask_pii(value) if key in FREE_TEXT_KEYS and isinstance(value, str) else value
            for key, value in summary.items()}


def audit_event(
    *,
    actor: User | None,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    team: Team | int | None = None,
    summary: dict[str, Any] | None = None,
) -> AuditEvent:
    """The audit row for an action, not yet saved (for a caller that writes it in one statement
    with the change it records; see ``accounts.onestatement``)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    team_id = team if isinstance(team, int) or team is None else team.pk
    if team_id is None and target is not None:
        team_id = getattr(target, "team_id", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent(
        actor=actor,
        actor_label=_label(actor),
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        team_id=team_id,
        summary=_masked(summary or {}),
        ip_address=current_ip(),
    )


def audit_record(**fields: Any) -> AuditEvent:
    """Write one audit row now; takes :func:`audit_event`'s arguments."""
    event = audit_event(**fields)
    event.save(force_insert=True)
    return event
