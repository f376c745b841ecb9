"""Every permission policy, as plain functions of (user, object). Nothing else decides.

Roles are held per team. A role held on a team also applies to the teams below it, so a
force-level supervisor can approve for every unit of that force. Objects are duck-typed
(``team_id``, ``author_id``...) so this room imports neither of the others.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from accounts.models import Membership, Role, Team, User
from accounts.teams import lineage, parent_map, with_ancestors

DRAFTERS = frozenset({Role.OFFICER, Role.SUPERVISOR})
TRIAGERS = frozenset({Role.LIAISON, Role.SUPERVISOR})
PERSONAL_DATA_ROLES = frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN})


def _active(user: Any) -> bool:
    return bool(user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated and user.is_active)


def _memberships(user: User) -> dict[int, tuple[str, bool]]:
    """{team_id: (role, intelligence_liaison)} for the user's own memberships, cached on the user."""
    cached = getattr(user, "_engage_memberships", None)
    if cached is None:
        cached = {
            m.team_id: (m.role, m.intelligence_liaison)
            for m in Membership.objects.filter(user=user).only("team_id", "role", "intelligence_liaison")
        }
        user._engage_memberships = cached
    return cached


def _parents(user: User) -> dict[int, int | None]:
    parents = getattr(user, "_engage_parents", None)
    if parents is None:
        parents = parent_map()
        user._engage_parents = parents
    return parents


def _lineage(user: User, team_id: int) -> list[int]:
    return lineage(team_id, _parents(user))


def forget(user: Any) -> None:
    """Drop cached memberships (after a role change in the same request)."""
    for attr in ("_engage_memberships", "_engage_parents"):
        if hasattr(user, attr):
            delattr(user, attr)


def roles_in(user: Any, team: Team | int | None) -> set[str]:
    if not _active(user) or team is None:
        return set()
    team_id = team if isinstance(team, int) else team.pk
    own = _memberships(user)
    return {own[t][0] for t in _lineage(user, team_id) if t in own}


def has_role(user: Any, team: Team | int | None, roles: frozenset[str] | set[str]) -> bool:
    return bool(roles_in(user, team) & set(roles))


def team_ids(user: Any, roles: frozenset[str] | set[str] | None = None) -> set[int]:
    """Ids of the teams the user may see (with one of ``roles``, if given), sub-teams included."""
    if not _active(user):
        return set()
    own = _memberships(user)
    if not own:
        return set()
    parents = _parents(user)
    result = set()
    for team_id in parents:
        if roles is None:
            if roles_in(user, team_id):
                result.add(team_id)
        elif roles_in(user, team_id) & set(roles):
            result.add(team_id)
    return result


def team_ids_with_ancestors(user: Any) -> set[int]:
    """The teams the user may see and the teams above them (their force), from the cached tree."""
    return with_ancestors(team_ids(user), _parents(user)) if _active(user) else set()


def primary_role(user: Any) -> str | None:
    if not _active(user):
        return None
    held = {role for role, _ in _memberships(user).values()}
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.LIAISON, Role.OFFICER):
        if role in held:
            return role
    return None


# --- the policies ---------------------------------------------------------------------------

def can_view_team(user: Any, team: Team | int | None) -> bool:
    return bool(roles_in(user, team))


def can_draft(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, DRAFTERS)


def can_edit_message(user: Any, message: Any) -> bool:
    return has_role(user, message.team_id, DRAFTERS)


def can_submit(user: Any, message: Any) -> bool:
    return can_edit_message(user, message)


def wrote_part_of(user: Any, message: Any) -> bool:
    """The user is the author, or saved any version of the message's content."""
    if user.pk == message.author_id:
        return True
    versions = getattr(message, "versions", None)
    return bool(message.pk and versions is not None and versions.filter(created_by_id=user.pk).exists())


def can_approve(user: Any, message: Any) -> bool:
    """A supervisor of the message's team who wrote none of it: the second person of the two-person rule."""
    return has_role(user, message.team_id, {Role.SUPERVISOR}) and not wrote_part_of(user, message)


def can_emergency_self_approve(user: Any, message: Any) -> bool:
    """The one exception: a supervisor may approve their own emergency message (flagged for review)."""
    return (
        has_role(user, message.team_id, {Role.SUPERVISOR})
        and user.pk == message.author_id
        and getattr(message, "urgency", None) == "emergency"
    )


def can_review_emergency(user: Any, message: Any) -> bool:
    """The after-the-fact review of a self-approved emergency: another supervisor."""
    return has_role(user, message.team_id, {Role.SUPERVISOR}) and user.pk != getattr(message, "author_id", None)


def can_schedule(user: Any, message: Any) -> bool:
    return has_role(user, message.team_id, DRAFTERS)


def can_withdraw(user: Any, message: Any) -> bool:
    return has_role(user, message.team_id, {Role.SUPERVISOR})


def can_comment(user: Any, message: Any) -> bool:
    return has_role(user, message.team_id, DRAFTERS)


def can_pause_publishing(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.SUPERVISOR})


def is_platform_operator(user: Any) -> bool:
    """A platform operator (a superuser) is the only one who acts across forces."""
    return bool(_active(user) and user.is_superuser)


def can_pause_everything(user: Any) -> bool:
    """A platform-wide pause (every force) is for platform operators only, and only they lift it."""
    return is_platform_operator(user)


def supervised_forces(user: Any) -> list[int]:
    """The forces (top-level teams) where the user is a supervisor at force level."""
    if not _active(user):
        return []
    parents = _parents(user)
    return sorted(team_id for team_id, (role, _) in _memberships(user).items()
                  if role == Role.SUPERVISOR and team_id in parents and parents[team_id] is None)


def can_manage_segments(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, DRAFTERS)


def can_manage_channels(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.ADMIN})


def can_manage_team(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.ADMIN})


def can_manage_retention(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.ADMIN})


def can_view_audit(user: Any, team: Team | int | None = None) -> bool:
    if team is None:
        return bool(team_ids(user, {Role.ADMIN}))
    return has_role(user, team, {Role.ADMIN})


def can_manage_events(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, DRAFTERS)


def can_override_phase(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.SUPERVISOR})


def can_set_rumour_status(user: Any, team: Team | int | None) -> bool:
    """May write a verdict on a rumour (a version someone else then publishes)."""
    return has_role(user, team, DRAFTERS)


def can_publish_event(user: Any, event: Any, *, draft_authors: set[int]) -> bool:
    """A supervisor of the event's team who wrote none of the unpublished revisions."""
    return has_role(user, event.team_id, {Role.SUPERVISOR}) and user.pk not in draft_authors


def can_publish_rumour_verdict(user: Any, team: Team | int | None, *, writers: set[int]) -> bool:
    """A supervisor of the team who wrote neither the verdict nor (for a first verdict) the claim."""
    return has_role(user, team, {Role.SUPERVISOR}) and user.pk not in writers


def can_emergency_publish(user: Any, team: Team | int | None) -> bool:
    """A supervisor may publish their own rumour verdict or answer template at once in an emergency;
    a second supervisor reviews it afterwards."""
    return has_role(user, team, {Role.SUPERVISOR})


def can_review_emergency_publication(user: Any, team: Team | int | None, *, publisher_id: int | None) -> bool:
    return has_role(user, team, {Role.SUPERVISOR}) and user.pk != publisher_id


def can_write_answer_template(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, {Role.SUPERVISOR})


def can_approve_answer_template(user: Any, team: Team | int | None, *, author_id: int | None) -> bool:
    """A supervisor of the template's team who did not write this version."""
    return has_role(user, team, {Role.SUPERVISOR}) and user.pk != author_id


def can_triage(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, TRIAGERS)


def can_view_personal_data(user: Any, team: Team | int | None) -> bool:
    return has_role(user, team, PERSONAL_DATA_ROLES)


def can_see_restricted_queue(user: Any, team: Team | int | None) -> bool:
    if team is None or not _active(user):
        return False
    team_id = team if isinstance(team, int) else team.pk
    own = _memberships(user)
    return any(own[t][1] for t in _lineage(user, team_id) if t in own)


def can_view_metrics(user: Any, team: Team | int | None) -> bool:
    return bool(roles_in(user, team))


def must_use_2fa(user: Any) -> bool:
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return any(role in (Role.SUPERVISOR, Role.ADMIN) for role, _ in _memberships(user).values())


# --- event awareness (issue 18): public signals, aggregate only ------------------------------

AWARENESS_VIEWERS = frozenset({Role.OFFICER, Role.LIAISON, Role.SUPERVISOR})


def can_set_up_watch(user: Any, team: Team | int | None) -> bool:
    """A supervisor of the event's team sets up a watch of public signals (a second one approves it)."""
    return has_role(user, team, {Role.SUPERVISOR})


def can_approve_watch(user: Any, watch: Any) -> bool:
    """A supervisor of the event's team who did not set the watch up: the two-person rule."""
    return has_role(user, watch.event.team_id, {Role.SUPERVISOR}) and user.pk != watch.created_by_id


def can_view_awareness(user: Any, team: Team | int | None) -> bool:
    """The awareness panel (counts and masked rumour candidates): the event team's desk."""
    return has_role(user, team, AWARENESS_VIEWERS)


def can_decide_candidate(user: Any, team: Team | int | None) -> bool:
    """Making a rumour of a candidate, or dismissing it: a supervisor of the event's team."""
    return has_role(user, team, {Role.SUPERVISOR})
