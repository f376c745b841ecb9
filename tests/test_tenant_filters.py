"""A force is a tenant: no API filter tells another force's ids from unknown ids (issue 12, section 3).

Every query parameter that takes an id, on every GET endpoint of the generated OpenAPI schema, is
tried with an object of another force (and of a sibling team the caller cannot see) and with an id
that exists nowhere: the two answers must be the same, status and body. The parameters come from
the schema, so a filter added later is covered; a new id parameter without an entry in
``invisible`` fails here until it has one.
"""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import make_other_force, member

UNKNOWN_ID = 987_654_321
NOT_ID_PARAMETERS = {"page"}
ROLES = ("officer", "supervisor", "liaison", "admin")


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _id_parameters(operation: dict) -> list[str]:
    names = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or parameter["name"] in NOT_ID_PARAMETERS:
            continue
        schema = parameter.get("schema", {})
        if schema.get("type") == "integer" or parameter["name"] in ("assignee", "author"):
            names.append(parameter["name"])
    return names


def _path_fillers(world, visible_message_id: int) -> dict[str, str]:
    return {"id": str(visible_message_id), "table": "volume", "ext": "json"}


def _normalise(response, value: int) -> tuple[int, str]:
    text = response.content.decode("utf-8", "replace")
    return response.status_code, re.sub(rf"\b{value}\b", "ID", text)


@pytest.mark.django_db
def test_every_id_filter_answers_alike_for_another_forces_ids_and_unknown_ids(world):
    from accounts.models import User
    from tests.factories import make_approved

    _force, other = make_other_force("C")
    sibling = world.b  # same force, another team: not visible to team A's users either
    invisible = {
        name: [getattr(tw, attr).pk for tw in (other, sibling)]
        for name, attr in {"team": "team", "campaign": "campaign", "event": "event", "channel": "mastodon",
                           "segment": "segment"}.items()
    }
    invisible["author"] = invisible["assignee"] = [other.officer.pk, other.liaison.pk, sibling.officer.pk]
    chief = member(world.force, Role.SUPERVISOR, email="chief@engage.test")  # above team A: visible to it
    visible = {"team": world.a.team.pk, "campaign": world.a.campaign.pk, "event": world.a.event.pk,
               "channel": world.a.mastodon.pk, "segment": world.a.segment.pk, "author": chief.pk,
               "assignee": world.a.liaison.pk}
    assert not User.objects.filter(pk=UNKNOWN_ID).exists()
    message = make_approved(world.a)
    schema = _schema()
    fillers = _path_fillers(world, message.pk)
    checked = 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        names = _id_parameters(operation)
        if not names:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: fillers[m.group(1)], path)
        for name in names:
            assert name in invisible, f"{path}: add the id parameter {name!r} to ``invisible`` in this test"
            for role in ROLES:
                client = APIClient()
                client.force_authenticate(world.a.users[role])
                unknown = _normalise(client.get(url, {name: UNKNOWN_ID}), UNKNOWN_ID)
                # On a list, the filter still works for what the caller can see: answered as without it.
                assert "{" in path or client.get(url, {name: visible[name]}).status_code == client.get(url).status_code, (
                    path, name, role)
                for value in invisible[name]:
                    answer = _normalise(client.get(url, {name: value}), value)
                    assert answer == unknown, (path, name, role, value, answer, unknown)
                    checked += 1
    assert checked > 50  # the schema was read and its filters tried


@pytest.mark.django_db
def test_a_partner_channel_of_another_force_answers_like_an_unknown_one(world):
    _force, other = make_other_force("C")
    client = APIClient()
    client.force_authenticate(world.a.officer)
    segment = world.a.segment

    def answers(value: int) -> list[tuple[int, str]]:
        partners = [{"name": "Mosque council", "kind": "faith_group", "channel": value}]
        return [
            _normalise(client.post("/api/v1/segments/", {"name": f"New {value}", "team": world.a.team.pk,
                                                         "partners": partners}, format="json"), value),
            _normalise(client.patch(f"/api/v1/segments/{segment.pk}/", {"partners": partners}, format="json"),
                       value),
        ]

    unknown = answers(UNKNOWN_ID)
    assert unknown[0][0] == 400
    for value in (other.mastodon.pk, world.b.mastodon.pk):
        assert answers(value) == [(status, body.replace(f"New {UNKNOWN_ID}", "New ID")) for status, body in unknown]
    ok = client.patch(f"/api/v1/segments/{segment.pk}/", {"partners": [
        {"name": "Mosque council", "kind": "faith_group", "channel": world.a.mastodon.pk}]}, format="json")
    assert ok.status_code == 200, ok.content


def test_a_filter_without_a_visibility_rule_fails_closed():
    """A new filter on a model this module does not know is refused, never offered with every row."""
    from django.core.exceptions import ImproperlyConfigured
    from django_filters import rest_framework as filters

    from campaigns.api.filters import ScopedFilterBackend, visible_choices
    from campaigns.models import DeliveryAttempt, Message
    from engage.models import ReplyCampaign

    with pytest.raises(ImproperlyConfigured):
        visible_choices(DeliveryAttempt, None)
    assert visible_choices(ReplyCampaign, None).model is ReplyCampaign  # a team's own rows: by team

    class Plain(filters.FilterSet):
        class Meta:
            model = Message
            fields = ["campaign"]

    class View:
        filterset_class = Plain

    with pytest.raises(ImproperlyConfigured):
        ScopedFilterBackend().get_filterset_class(View(), Message.objects.none())


@pytest.mark.django_db
def test_the_author_filter_still_finds_someone_who_left_the_team(world):
    from accounts.models import Membership
    from tests.factories import make_message

    make_message(world.a)
    Membership.objects.filter(user=world.a.officer).delete()
    client = APIClient()
    client.force_authenticate(world.a.supervisor)
    response = client.get("/api/v1/messages/", {"author": world.a.officer.pk})
    assert response.status_code == 200 and response.json()["count"] == 1
