"""Every write in the accounts room: keyword-only, typed, atomic and audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.text import slugify

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership, Notification, Role, Team, User
from accounts.teams import parent_map, with_descendants
from engage.common.errors import InvalidInput, NotAllowed
from engage.common.timeutil import is_valid_zone


@transaction.atomic
def user_create(
    *, email: str, password: str | None, full_name: str = "", actor: User | None = None, check_password: bool = True
) -> User:
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["Enter a valid email address."]})
    if User.objects.filter(email=email).exists():
        raise InvalidInput("A user with that email already exists.", code="duplicate", fields={"email": ["Taken."]})
    user = User(email=email, full_name=full_name.strip())
    if password and check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), fields={"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    audit_record(actor=actor, verb="user.created", target=user, summary={"email": email})
    return user


@transaction.atomic
def team_create(
    *, name: str, slug: str = "", parent: Team | None = None, timezone: str = "", actor: User | None = None
) -> Team:
    if parent is not None and actor is not None and not permissions.can_manage_team(actor, parent):
        raise NotAllowed("Only an administrator of the parent team can add a team under it.")
    timezone = timezone or (parent.timezone if parent else "Europe/London")
    if not is_valid_zone(timezone):
        raise InvalidInput(f"Unknown time zone {timezone!r}.", fields={"timezone": ["Unknown time zone."]})
    team = Team(name=name.strip(), slug=slugify(slug or name)[:80], parent=parent, timezone=timezone)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise InvalidInput("A team with that short name exists.", fields={"slug": ["Taken."]}) from exc
    audit_record(actor=actor, verb="team.created", target=team, team=team, summary={"name": team.name})
    return team


# Team settings only platform operators change (a force is a tenant; who receives its citizens'
# reports is not for one team's administrator to take over): see force_contact_route_set.
OPERATOR_SETTINGS = frozenset({"contact_team", "public_contact"})


@transaction.atomic
def team_update_settings(*, team: Team, actor: User, changes: dict) -> Team:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed("Only an administrator of this team can change its settings.")
    reserved = sorted(OPERATOR_SETTINGS.intersection(changes))
    if reserved and not permissions.is_platform_operator(actor):
        raise NotAllowed(f"Only platform operators change {', '.join(reserved)}.")
    before = dict(team.settings or {})
    team.settings = {**before, **changes}
    team.save(update_fields=["settings"])
    audit_record(
        actor=actor, verb="team.settings_changed", target=team, team=team, summary={"before": before, "after": changes}
    )
    return team


@transaction.atomic
def force_contact_route_set(*, actor: User, force: Team, team: Team | None) -> Team:
    """Which team of ``force`` receives its public contact form (None: the default rule, see
    ``engage.services.ingest.contact_team_for``). Platform operators only; audited."""
    if not permissions.is_platform_operator(actor):
        raise NotAllowed("Only platform operators change where a force's contact form goes.")
    if force.parent_id is not None:
        raise InvalidInput(f"{force.name} is not a force (a top-level team).", fields={"force": ["Not a force."]})
    if team is not None and team.pk not in with_descendants({force.pk}, parent_map()):
        raise InvalidInput(f"{team.name} is not part of {force.name}.", fields={"team": ["Not in this force."]})
    force = Team.objects.select_for_update().get(pk=force.pk)
    before = (force.settings or {}).get("contact_team")
    force.settings = {**(force.settings or {}), "contact_team": team.pk if team is not None else None}
    force.save(update_fields=["settings"])
    audit_record(actor=actor, verb="force.contact_route_changed", target=force, team=force,
                 summary={"before": before, "after": team.pk if team is not None else None})
    return force


@transaction.atomic
def membership_set(
    *, user: User, team: Team, role: str, actor: User | None = None, intelligence_liaison: bool = False
) -> Membership:
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.", fields={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if actor is not None and not permissions.can_manage_team(actor, team):
        raise NotAllowed("Only an administrator of this team can change roles.")
    membership, created = Membership.objects.update_or_create(
        user=user, team=team, defaults={"role": role, "intelligence_liaison": intelligence_liaison}
    )
    audit_record(
        actor=actor,
        verb="membership.created" if created else "membership.changed",
        target=membership,
        team=team,
        summary={"user": user.email, "role": role, "intelligence_liaison": intelligence_liaison},
    )
    permissions.forget(user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    if not permissions.can_manage_team(actor, membership.team):
        raise NotAllowed("Only an administrator of this team can remove members.")
    audit_record(
        actor=actor,
        verb="membership.removed",
        target=membership,
        team=membership.team,
        summary={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


AUDIT_CSV_COLUMNS = ["at", "actor", "verb", "target_type", "target_id", "team", "ip_address", "summary"]


def audit_export_csv(*, actor: User, events: Iterable[AuditEvent], filters: dict[str, str]) -> str:
    """CSV of the given audit events. The export itself goes on the record first."""
    if not permissions.can_view_audit(actor):
        raise NotAllowed("Only administrators can export the audit trail.")
    rows = list(events)
    with transaction.atomic():
        audit_record(actor=actor, verb="audit.exported", target_type="audit", summary={"filters": filters,
                                                                                      "rows": len(rows)})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for event in rows:
        writer.writerow(
            [
                event.at.isoformat(),
                event.actor_label,
                event.verb,
                event.target_type,
                event.target_id,
                event.team.name if event.team_id else "",
                event.ip_address or "",
                _csv_safe(str(event.summary)),
            ]
        )
    return buffer.getvalue()


def _csv_safe(value: str) -> str:
    """Defuse spreadsheet formula injection in exported cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=dj_timezone.now())
