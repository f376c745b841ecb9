"""The permission policy of a model, as Wagtail's permission policies are.

One object per model answers both questions about an action ("view", "draft", "supervise", ...):

- ``may(user, action, obj)``: may this user do it to this object? (Wagtail's
  ``user_has_permission_for_instance``), for the views' button states and the services' checks;
- ``queryset(user, action)``: the objects this user may do it to (Wagtail's
  ``instances_user_has_permission_for``), for the selectors and the lists.

The two answers agree for every object (``tests/accounts/test_policies.py`` checks it for every role
of the test world). Roles are those of ``accounts.permissions``: held per team, a role on a team
applies to the teams below it, and a deactivated user, a user without membership or a member of
another force may do nothing. A policy knows the path from its model to the team (``team_path``), so
no view or selector spells a team filter itself: ``restrict(qs, team_ids)`` narrows any queryset of
the model to teams already allowed (a metrics scope, say).

Policies are registered by the app that owns the model (in its ``AppConfig.ready``), so this floor
imports neither campaigns nor engage; ``policy_for`` finds them by model, instance or label.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q, QuerySet

from accounts import permissions
from accounts.models import Role, User
from accounts.teams import lineage, parent_map

# The actions every team-owned model answers, and the roles (on the object's team or a team above
# it) that allow them. ``None``: any role.
ACTION_ROLES: dict[str, frozenset[str] | None] = {
    "view": None,
    "draft": permissions.DRAFTERS,
    "triage": permissions.TRIAGERS,
    "inbox": frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN}),
    "supervise": frozenset({Role.SUPERVISOR}),
    "administer": frozenset({Role.ADMIN}),
    "oversee": frozenset({Role.SUPERVISOR, Role.ADMIN}),
}


class ModelPolicy:
    """The policy of one model whose rows belong to a team (through ``team_path``)."""

    model: type[Model]
    #: The path from the model to its team: ``"team"``, ``"message__team"``, ``"rumour__event__team"``;
    #: ``""`` for the Team model itself.
    team_path: str = "team"
    #: A row without a team is shared: every user may view it (shared playbooks and templates).
    shared_without_team: bool = False
    #: The actions this policy answers (a subset of ``ACTION_ROLES``, plus any the subclass adds).
    actions: tuple[str, ...] = tuple(ACTION_ROLES)
    #: Roles of an action that differ from ``ACTION_ROLES`` for this model.
    action_roles: dict[str, frozenset[str] | None] = {}

    def __init__(self, model: type[Model] | None = None, **options: Any) -> None:
        if model is not None:
            self.model = model
        for name, value in options.items():
            if not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__} has no option {name!r}")
            setattr(self, name, value)

    # --- the two questions -------------------------------------------------------------------

    def may(self, user: Any, action: str, obj: Any) -> bool:
        """May ``user`` do ``action`` to ``obj``?"""
        roles = self._roles(action)
        team_id = self.team_id_of(obj)
        if team_id is None:
            return self.shared_without_team and action == "view"
        held = permissions.roles_in(user, team_id)
        return bool(held) if roles is None else bool(held & roles)

    def queryset(self, user: Any, action: str = "view", qs: QuerySet | None = None) -> QuerySet:
        """The objects ``user`` may do ``action`` to (narrowing ``qs`` if given)."""
        qs = self.model._default_manager.all() if qs is None else qs
        return qs.filter(self.condition(user, action))

    def condition(self, user: Any, action: str = "view") -> Q:
        """``queryset``'s filter, to combine with another (``condition(...) | Q(author=...)``)."""
        condition = self.team_condition(self.team_ids(user, action))
        if self.shared_without_team and action == "view":
            condition |= Q(**{f"{self.team_path}__isnull": True})
        return condition

    def users_who_may(self, action: str, *, team_id: int) -> QuerySet[User]:
        """The active people who may do ``action`` to the objects of ``team_id``: a role of the action
        on the team or a team above it (Wagtail's ``users_with_permission_for_instance``)."""
        roles = self._roles(action)
        condition = Q(is_active=True, memberships__team_id__in=lineage(team_id, parent_map()))
        if roles is not None:
            condition &= Q(memberships__role__in=sorted(roles))
        return User.objects.filter(condition).distinct()

    # --- helpers the selectors use -----------------------------------------------------------

    def team_ids(self, user: Any, action: str = "view") -> set[int]:
        """The teams where ``user`` may do ``action`` (sub-teams included); no query once cached."""
        return permissions.team_ids(user, self._roles(action))

    def allows_any(self, user: Any, action: str = "view") -> bool:
        """May ``user`` do ``action`` in some team? (A menu item, a "New" button.)"""
        return bool(self.team_ids(user, action))

    def restrict(self, qs: QuerySet, team_ids: Any, *, shared: bool = False, via: str = "") -> QuerySet:
        """``qs`` narrowed to rows of ``team_ids``: teams the caller already holds (a metrics scope), or
        a team and the teams above it (what it inherits); ``shared`` adds the rows without a team.
        ``via``: ``qs`` is of another model, narrowed through its relation ``via`` to this one (the
        deliveries of the channels of ``team_ids``: ``policy_for(Channel).restrict(deliveries, ids,
        via="channel")``)."""
        condition = self.team_condition(team_ids, via=via)
        if shared:
            condition |= Q(**{self._path(via, f"{self.team_path}__isnull"): True})
        return qs.filter(condition)

    def team_condition(self, team_ids: Any, *, via: str = "") -> Q:
        lookup = f"{self.team_path}_id__in" if self.team_path else "pk__in"
        return Q(**{self._path(via, lookup): team_ids})

    @staticmethod
    def _path(via: str, lookup: str) -> str:
        return f"{via}__{lookup}" if via else lookup

    def team_id_of(self, obj: Any) -> int | None:
        if not self.team_path:
            return obj.pk
        *hops, last = self.team_path.split("__")
        for hop in hops:
            obj = getattr(obj, hop, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)

    # --- internals ---------------------------------------------------------------------------

    def _roles(self, action: str) -> frozenset[str] | None:
        if action not in self.actions:
            raise ValueError(f"{type(self).__name__} of {self.model.__name__} has no action {action!r}")
        if action in self.action_roles:
            return self.action_roles[action]
        return ACTION_ROLES[action]


_REGISTRY: dict[str, ModelPolicy] = {}


def _label(model: Any) -> str:
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


def register(model: type[Model], policy: ModelPolicy | None = None) -> ModelPolicy:
    """Register ``policy`` (a plain ``ModelPolicy`` if none) as the one policy of ``model``."""
    policy = policy if policy is not None else ModelPolicy()
    policy.model = model
    label = _label(model)
    current = _REGISTRY.get(label)
    if current is not None and type(current) is not type(policy):
        raise ValueError(f"{label} already has a policy: {type(current).__name__}")
    _REGISTRY[label] = policy
    return policy


def policy_for(model: Any) -> ModelPolicy:
    """The policy of a model class, an instance of it, or its label (``"campaigns.message"``)."""
    label = _label(model if isinstance(model, str | type) else type(model))
    try:
        return _REGISTRY[label]
    except KeyError:
        raise LookupError(f"No permission policy for {label}: register one in its app's ready()") from None


def registered() -> dict[str, ModelPolicy]:
    return dict(_REGISTRY)
