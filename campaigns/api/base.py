"""What the outbound API's views share: the team a request is for, and the read/create/patch view set."""

from __future__ import annotations

from rest_framework import mixins, viewsets
from rest_framework.request import Request

from accounts import permissions
from accounts.models import Team
from core.errors import InvalidInput


def default_team(request: Request, team: Team | None, roles: frozenset[str] | set[str]) -> Team:
    """The team named in the request, or the user's only team with one of ``roles``."""
    if team is not None:
        return team
    ids = sorted(permissions.team_ids(request.user, roles))
    own = [t for t in ids if t in {m.team_id for m in request.user.memberships.all()}] or ids
    if len(own) == 1:
        return Team.objects.get(pk=own[0])
    raise InvalidInput("Say which team this is for.", fields={"team": ["This field is required."]})


class ReadCreatePatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                             mixins.UpdateModelMixin, viewsets.GenericViewSet):
    http_method_names = ["get", "post", "patch", "head", "options"]
