"""Every write in the accounts room: keyword-only, typed, atomic and audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone as dj_timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from knox.models import AuthToken

from accounts import permissions
from accounts.audit import audit_record
from accounts.audit_display import details_text
from accounts.models import ApiTokenGrant, AuditEvent, Membership, Notification, Role, Team, User
from accounts.teams import parent_map, with_descendants
from core.errors import InvalidInput, NotAllowed, WrongState
from core.timeutil import is_valid_zone


@transaction.atomic
def user_create(
    *, email: str, password: str | None, full_name: str = "", actor: User | None = None, check_password: bool = True
) -> User:
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise InvalidInput(gettext("Enter a valid email address."),
                           fields={"email": ["Enter a valid email address."]})
    if User.objects.filter(email=email).exists():
        raise InvalidInput(gettext("A user with that email already exists."),
                           code="duplicate", fields={"email": ["Taken."]})
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
        raise NotAllowed(gettext("Only an administrator of the parent team can add a team under it."))
    timezone = timezone or (parent.timezone if parent else "Europe/London")
    if not is_valid_zone(timezone):
        raise InvalidInput(f"Unknown time zone {timezone!r}.", fields={"timezone": ["Unknown time zone."]})
    team = Team(name=name.strip(), slug=slugify(slug or name)[:80], parent=parent, timezone=timezone)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise InvalidInput(gettext("A team with that short name exists."),
                           fields={"slug": ["Taken."]}) from exc
    audit_record(actor=actor, verb="team.created", target=team, team=team, summary={"name": team.name})
    return team


# Team settings only platform operators change (a force is a tenant; who receives its citizens'
# reports is not for one team's administrator to take over): see force_contact_route_set.
OPERATOR_SETTINGS = frozenset({"contact_team", "public_contact"})


@transaction.atomic
def team_update_settings(*, team: Team, actor: User, changes: dict) -> Team:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed(gettext("Only an administrator of this team can change its settings."))
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
    ``engage.inbound.ingest.contact_team_for``). Platform operators only; audited."""
    if not permissions.is_platform_operator(actor):
        raise NotAllowed(gettext("Only platform operators change where a force's contact form goes."))
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
        raise NotAllowed(gettext("Only an administrator of this team can change roles."))
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
        raise NotAllowed(gettext("Only an administrator of this team can remove members."))
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
        raise NotAllowed(gettext("Only administrators can export the audit trail."))
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
                _csv_safe(details_text(event.summary)),
            ]
        )
    return buffer.getvalue()


def _csv_safe(value: str) -> str:
    """Defuse spreadsheet formula injection in exported cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=dj_timezone.now())


# --- API tokens and sessions (issue 12, section 6) ---------------------------------------------

TOKEN_REVOKE_REASONS = frozenset({
    "signed_out", "signed_out_everywhere", "password_changed", "second_factor_enrolled",
    "second_factor_removed", "second_factor_required",
})


@transaction.atomic
def api_token_issue(*, user: User, otp_verified: bool) -> tuple[AuthToken, str]:
    """A new API token for ``user``, recording whether the second factor was checked. Refused
    (409 ``token_limit``) when the user already holds ``ENGAGE_TOKEN_LIMIT_PER_USER`` live tokens."""
    # Lock the user's row so two parallel sign-ins cannot both take the last free place.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    now = dj_timezone.now()
    AuthToken.objects.filter(user=user, expiry__lt=now).delete()
    limit = settings.ENGAGE_TOKEN_LIMIT_PER_USER
    if AuthToken.objects.filter(user=user).count() >= limit:
        raise WrongState(
            f"You already hold {limit} API tokens, the most allowed. Sign one out "
            "(POST /api/v1/auth/logout/), all of them (POST /api/v1/auth/logout-all/), or wait until one expires.",
            code="token_limit")
    instance, key = AuthToken.objects.create(user)
    ApiTokenGrant.objects.create(token=instance, otp_verified=otp_verified)
    audit_record(actor=user, verb="auth.token_issued", target=user,
                 summary={"expiry": str(instance.expiry), "otp_verified": otp_verified})
    return instance, key


@transaction.atomic
def api_tokens_revoke(
    *, user: User, reason: str, actor: User | None = None, token: AuthToken | None = None,
    only_without_otp: bool = False,
) -> int:
    """Delete ``token`` (one), or every token of ``user`` (those issued without the second factor
    when ``only_without_otp``). Audited with the reason when anything was deleted."""
    if reason not in TOKEN_REVOKE_REASONS:
        raise ValueError(f"Unknown reason {reason!r}.")
    tokens = AuthToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    if only_without_otp:
        tokens = tokens.exclude(engage_grant__otp_verified=True)
    _total, per_model = tokens.delete()
    count = per_model.get(AuthToken._meta.label, 0)
    if count:
        audit_record(actor=actor or user, verb="auth.tokens_revoked", target=user,
                     summary={"reason": reason, "count": count})
    return count


@transaction.atomic
def user_sign_out_everywhere(*, user: User, actor: User | None = None, reason: str = "signed_out_everywhere") -> int:
    """Revoke every API token of ``user`` and end every session (raise the session generation).
    The caller keeps its own browser session only by calling ``update_session_auth_hash`` after."""
    count = api_tokens_revoke(user=user, reason=reason, actor=actor)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    audit_record(actor=actor or user, verb="auth.sessions_ended", target=user, summary={"reason": reason})
    return count


def user_set_desk_language(*, user: User, language: str) -> User:
    """A person chooses the language of the staff desk's words for themself (``User.desk_language``)."""
    from accounts.models import DESK_LANGUAGES

    if language not in dict(DESK_LANGUAGES):
        raise InvalidInput(f"Unknown desk language: {language}.",
                           fields={"language": [f"Unknown desk language: {language}."]})
    before = user.desk_language
    if language != before:
        user.desk_language = language
        user.save(update_fields=["desk_language"])
        audit_record(actor=user, verb="user.desk_language_set", target=user, summary={"from": before, "to": language})
    return user


def may_set_reading_languages(actor: User, user: User) -> bool:
    """A person sets their own; an administrator of a team the person belongs to sets theirs."""
    from accounts.policies import policy_for

    if actor.pk == user.pk:
        return actor.is_active
    return policy_for(Team).queryset(actor, "administer").filter(memberships__user_id=user.pk).exists()


@transaction.atomic
def user_set_reading_languages(*, actor: User, user: User, codes: Iterable[str]) -> User:
    """Record the languages ``user`` reads (codes of ``accounts.languages``); unknown codes are refused."""
    from accounts import languages

    if not may_set_reading_languages(actor, user):
        raise NotAllowed(gettext("Only the person or an administrator of their team sets the languages they read."))
    known, unknown = languages.clean_codes(list(codes))
    if unknown:
        raise InvalidInput(gettext("Unknown language code: %(codes)s.") % {"codes": ", ".join(unknown)},
                           fields={"languages": [f"Unknown language code: {', '.join(unknown)}."]})
    before = list(user.reads_languages or [])
    if known != before:
        user.reads_languages = known
        user.save(update_fields=["reads_languages"])
        audit_record(actor=actor, verb="user.reading_languages_set", target=user,
                     summary={"from": before, "to": known})
    return user


@transaction.atomic
def notification_preferences_set(*, user: User, choices: dict[str, tuple[bool, bool]]) -> list[str]:
    """A person's own choice, per kind of alert, of (in the app, by email); kinds not named are left as
    they are. Returns the kinds whose choice changed (audited once)."""
    from accounts.models import NotificationPreference
    from accounts.notify import KINDS

    unknown = sorted(set(choices) - set(KINDS))
    if unknown:
        raise InvalidInput(f"Unknown kind of alert: {', '.join(unknown)}.", fields={"kinds": unknown})
    current = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    changed: list[str] = []
    for kind, (in_app, email) in sorted(choices.items()):
        email = bool(email) or not KINDS[kind].email  # nothing to turn off where no email goes
        row = current.get(kind)
        before = (row.in_app, row.email) if row else (True, True)
        if before == (bool(in_app), email):
            continue
        NotificationPreference.objects.update_or_create(user=user, kind=kind,
                                                        defaults={"in_app": bool(in_app), "email": email})
        changed.append(kind)
    if changed:
        audit_record(actor=user, verb="user.notification_preferences_set", target=user,
                     summary={k: {"in_app": choices[k][0], "email": choices[k][1]} for k in changed})
    return changed
