"""Query-parameter filters that never reach past what the caller can see.

django-filter builds a ``ModelChoiceFilter`` for every foreign key (``?team=``, ``?campaign=``,
``?author=``...) with *every* row of the model as its choices: an id of another force would be a
valid choice (an empty page) and an unknown id would not (a 400), so the answers told them apart.
Here each such filter's choices are what the caller can see, through the same selectors and
policies as the lists themselves; another force's id answers exactly like an unknown one.

``ScopedFilterBackend`` is the API's default filter backend (``REST_FRAMEWORK`` in settings), so
``filterset_fields`` and ``filterset_class`` both get scoped filters. A filter on a model with no
rule here fails loudly instead of offering every row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet
from django_filters import rest_framework as filters

from accounts.models import Team, User
from accounts.policies import policy_for
from core.filters import FilterSet


def _visible_teams(user: Any) -> QuerySet[Team]:
    return policy_for(Team).queryset(user, "view")


def _visible_users(user: Any) -> QuerySet[User]:
    """People of the caller's teams and of the teams above them (the force's officers), and the
    authors of messages the caller can see (someone who has since left the team, say)."""
    from campaigns.models import Message

    authors = policy_for(Message).queryset(user, "view").values("author_id")
    return User.objects.filter(policy_for(User).condition(user, "view") | Q(pk__in=authors)).distinct()


def _scopes() -> dict[type[Model], Callable[[Any], QuerySet]]:
    from campaigns import selectors
    from campaigns.models import Campaign, Channel, Event, Message, Segment

    return {
        Team: _visible_teams, User: _visible_users, Campaign: selectors.campaigns_for,
        Event: selectors.events_for, Channel: selectors.channels_for, Segment: selectors.segments_for,
        Message: selectors.messages_for,
    }


def visible_choices(model: type[Model], user: Any) -> QuerySet:
    """The rows of ``model`` the user may name in a filter."""
    scope = _scopes().get(model)
    if scope is not None:
        return scope(user)
    try:
        return policy_for(model).queryset(user, "view")  # a team's own rows: its permission policy
    except LookupError:
        raise ImproperlyConfigured(f"No visibility rule for filtering by {model.__name__}: register its "
                                   f"permission policy (accounts.policies) before offering it as a filter.") from None


def _choices_for_request(model: type[Model], request: Any) -> QuerySet:
    user = getattr(request, "user", None)
    return visible_choices(model, user) if user is not None else model._default_manager.none()


class ScopedFilterSet(FilterSet):
    """A FilterSet whose model choices are limited to what ``request.user`` can see (and whose date
    filters refuse values that would overflow: ``core.filters.FilterSet``)."""

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        for f in self.filters.values():
            if isinstance(f, filters.ModelChoiceFilter | filters.ModelMultipleChoiceFilter):
                # A callable: evaluated (with the request) only when the parameter is given.
                f.queryset = functools.partial(_choices_for_request, self._related_model(f))


    def _related_model(self, f: filters.Filter) -> type[Model]:
        model = getattr(f.queryset, "model", None)
        if model is None:
            model = self._meta.model
            for part in f.field_name.split("__"):
                model = model._meta.get_field(part).related_model
        return model


class ScopedFilterBackend(filters.DjangoFilterBackend):
    """The default filter backend: ``filterset_fields`` get a ScopedFilterSet too."""

    filterset_base = ScopedFilterSet

    def get_filterset_class(self, view: Any, queryset: QuerySet | None = None) -> Any:
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(filterset_class, ScopedFilterSet):
            raise ImproperlyConfigured(f"{view.__class__.__name__}.filterset_class must extend ScopedFilterSet.")
        return filterset_class
