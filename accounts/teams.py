"""The team tree: a force and its units. Small helpers over one {team: parent} map."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Team


def parent_map() -> dict[int, int | None]:
    """{team id: parent id} for every team (teams are few: one query)."""
    return dict(Team.objects.values_list("id", "parent_id"))


def lineage(team_id: int, parents: dict[int, int | None]) -> list[int]:
    """The team and its ancestors, nearest first."""
    chain: list[int] = []
    current: int | None = team_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def with_ancestors(team_ids: Iterable[int], parents: dict[int, int | None]) -> set[int]:
    return {ancestor for team_id in team_ids for ancestor in lineage(team_id, parents)}


def with_descendants(team_ids: Iterable[int], parents: dict[int, int | None]) -> set[int]:
    """The teams given and every team below them."""
    roots = set(team_ids)
    return {team_id for team_id in parents if roots.intersection(lineage(team_id, parents))}
