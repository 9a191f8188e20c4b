"""The Query root: thin resolvers over visibility-filtered statements and dataloaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from sqlalchemy import BindParameter, ColumnElement, Select, any_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from schema.context import Context
from schema.enums import ProposalStatus
from schema.ids import decode_id, from_global_id
from schema.inputs import ObjectiveFilter
from schema.loaders import visibility
from schema.pagination import page
from schema.types import (
    Connection,
    CycleType,
    Node,
    NotificationType,
    ObjectiveType,
    ProposalType,
    TeamType,
    UserType,
)
from workflow import models
from workflow.policies import objective_visible, visible_objective_ids
from workflow.viewer import Viewer, teams_below

Ctx = Info[Context, None]


async def resolve_node(info: Ctx, type_name: str, pk: int) -> Any:
    """Missing and invisible read the same: None."""
    loaders = info.context.loaders
    simple: dict[str, Any] = {
        "User": loaders.user,
        "Team": loaders.team,
        "Cycle": loaders.cycle,
        "Objective": loaders.objective,
        "KeyResult": loaders.key_result,
        "Proposal": loaders.proposal,
    }
    if type_name in simple:
        return await simple[type_name].load(pk)
    viewer = info.context.viewer
    visible = visible_objective_ids(viewer)
    stmt: Select[Any]
    if type_name == "CheckIn":
        stmt = (
            select(models.CheckIn)
            .join(models.KeyResult, models.KeyResult.id == models.CheckIn.key_result_id)
            .where(models.CheckIn.id == pk, models.KeyResult.objective_id.in_(visible))
        )
    elif type_name == "Initiative":
        stmt = (
            select(models.Initiative)
            .join(models.KeyResult, models.KeyResult.id == models.Initiative.key_result_id)
            .where(models.Initiative.id == pk, models.KeyResult.objective_id.in_(visible))
        )
    elif type_name == "Comment":
        stmt = select(models.Comment).where(models.Comment.id == pk, models.Comment.objective_id.in_(visible))
    elif type_name == "Event":
        stmt = select(models.Event).where(
            models.Event.id == pk,
            models.Event.organization_id == viewer.organization_id,
            or_(models.Event.objective_id.is_(None), models.Event.objective_id.in_(visible)),
        )
    elif type_name == "Notification":
        stmt = select(models.Notification).where(
            models.Notification.id == pk,
            models.Notification.user_id == viewer.user_id,
            models.Notification.organization_id == viewer.organization_id,
            or_(models.Notification.objective_id.is_(None), models.Notification.objective_id.in_(visible)),
        )
    else:
        return None
    session = await info.context.session()
    return (await session.execute(stmt)).scalar_one_or_none()


async def team_objectives(info: Ctx, team_id: int, cycle_id: strawberry.ID | None) -> list[models.Objective]:
    stmt = select(models.Objective).where(
        models.Objective.owner_team_id == team_id, objective_visible(info.context.viewer)
    )
    if cycle_id is not None:
        stmt = stmt.where(models.Objective.cycle_id == decode_id(cycle_id, "Cycle", "cycleId"))
    session = await info.context.session()
    found = list((await session.execute(stmt.order_by(models.Objective.id))).scalars())
    info.context.loaders.prime_objectives(found)
    return found


def _team_subtree_statement(root: str, org: str, name: str) -> Select[Any]:
    teams = models.Team.__table__
    tree = select(teams.c.id).where(teams.c.id == bindparam(root), teams.c.organization_id == bindparam(org))
    return select(teams_below(tree, name).c.id)


# Built once. Its own statement rather than a subquery of the page's: PostgreSQL cannot estimate a
# recursive CTE's size and, guessing hundreds of teams, scans every objective of the cycle; given
# the ids it reads the (cycle, team) index. (So does `= ANY(ARRAY(subtree))`, the inline form.)
_TEAM_SUBTREE = _team_subtree_statement("team_id", "org", "team_subtree")
_INLINE_TEAM_SUBTREE = _team_subtree_statement("subtree_root", "subtree_org", "inline_team_subtree").scalar_subquery()


async def _team_subtree(session: AsyncSession, organization_id: int, team_id: int) -> list[int]:
    """The team and every team below it (walked in SQL, not over the organization's whole tree)."""
    connection = await session.connection()
    return list((await connection.execute(_TEAM_SUBTREE, {"team_id": team_id, "org": organization_id})).scalars())


@dataclass(frozen=True)
class FilteredObjectives:
    """The objectives a filter selects: a statement shaped by which filters are set (and by the
    viewer, whose visibility is inside it), and the values it is executed with."""

    statement: Select[Any]
    params: dict[str, Any]
    shape: frozenset[str]


def _filter_conditions(shape: frozenset[str]) -> list[ColumnElement[bool]]:
    objective = models.Objective
    conditions: list[ColumnElement[bool]] = []
    if "cycle" in shape:
        conditions.append(objective.cycle_id == bindparam("cycle_id"))
    if "team" in shape:
        conditions.append(objective.owner_team_id.in_(bindparam("team_ids", expanding=True)))
    if "team_inline" in shape:
        conditions.append(objective.owner_team_id == any_(func.array(_INLINE_TEAM_SUBTREE)))
    if "owner" in shape:
        conditions.append(objective.owner_user_id == bindparam("owner_user_id"))
    if "status" in shape:
        conditions.append(objective.status.in_(bindparam("statuses", expanding=True)))
    if "tag" in shape:
        tagged = select(models.ObjectiveTag.objective_id).where(models.ObjectiveTag.tag == bindparam("tag"))
        conditions.append(objective.id.in_(tagged))
    if "search" in shape:
        pattern: BindParameter[str] = bindparam("pattern")
        conditions.append(
            or_(objective.title.ilike(pattern, escape="\\"), objective.description.ilike(pattern, escape="\\"))
        )
    return conditions


@lru_cache(maxsize=1024)
def objectives_statement(viewer: Viewer, shape: frozenset[str]) -> Select[Any]:
    """The objectives statement of a viewer and filter shape, values left to bind. Built once:
    building one costs more than executing it, a viewer comes back to the same page again and
    again, and a statement object reused keeps its compiled SQL."""
    return select(models.Objective).where(visibility(viewer).objective, *_filter_conditions(shape))


async def filtered_objectives(
    session: AsyncSession, viewer: Viewer, where: ObjectiveFilter | None, *, inline_team_subtree: bool = False
) -> FilteredObjectives:
    """The objectives a filter selects, with the viewer's visibility inside the statement.

    `inline_team_subtree` (PostgreSQL only) walks a team filter's subtree inside the statement, as an
    array its planner sees as a parameter, instead of in a statement of its own first."""
    params: dict[str, Any] = {}
    shape: set[str] = set()
    if where is not None:
        if where.cycle_id is not None:
            shape.add("cycle")
            params["cycle_id"] = decode_id(where.cycle_id, "Cycle", "filter.cycleId")
        if where.team_id is not None:
            team_id = decode_id(where.team_id, "Team", "filter.teamId")
            if inline_team_subtree:
                shape.add("team_inline")
                params.update(subtree_root=team_id, subtree_org=viewer.organization_id)
            else:
                shape.add("team")
                params["team_ids"] = await _team_subtree(session, viewer.organization_id, team_id)
        if where.owner_user_id is not None:
            shape.add("owner")
            params["owner_user_id"] = decode_id(where.owner_user_id, "User", "filter.ownerUserId")
        if where.status:
            shape.add("status")
            params["statuses"] = [str(s) for s in where.status]
        if where.tag:
            shape.add("tag")
            params["tag"] = where.tag
        if where.search:
            shape.add("search")
            params["pattern"] = "%" + where.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    frozen = frozenset(shape)
    return FilteredObjectives(objectives_statement(viewer, frozen), params, frozen)


def selected_at(selections: Sequence[Selection], path: tuple[str, ...]) -> list[SelectedField]:
    """The fields selected at `path` (fragments flattened), e.g. under objectives.edges.node."""
    found: list[SelectedField] = []
    for selection in selections:
        if not isinstance(selection, SelectedField):
            found += selected_at(selection.selections, path)
        elif selection.name == path[0]:
            found += _flattened(selection.selections) if len(path) == 1 else selected_at(selection.selections, path[1:])
    return found


def _flattened(selections: Sequence[Selection]) -> list[SelectedField]:
    fields: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            fields.append(selection)
        else:
            fields.extend(_flattened(selection.selections))
    return fields


@strawberry.type
class CoreQueries:
    @strawberry.field
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None:
            return None
        found: Node | None = await resolve_node(info, *parsed)
        return found

    @strawberry.field
    async def viewer(self, info: Ctx) -> UserType:
        return await info.context.loaders.user.load(info.context.viewer.user_id)  # type: ignore[return-value]

    @strawberry.field
    async def teams(self, info: Ctx) -> list[TeamType]:
        session = await info.context.session()
        rows = await session.execute(
            select(models.Team)
            .where(models.Team.organization_id == info.context.viewer.organization_id)
            .order_by(models.Team.id)
        )
        found = list(rows.scalars())
        for team in found:
            info.context.loaders.team.prime(team.id, team)
        return found  # type: ignore[return-value]

    @strawberry.field
    async def cycles(self, info: Ctx) -> list[CycleType]:
        session = await info.context.session()
        rows = await session.execute(
            select(models.Cycle)
            .where(models.Cycle.organization_id == info.context.viewer.organization_id)
            .order_by(models.Cycle.starts_on.desc(), models.Cycle.id)
        )
        found = list(rows.scalars())
        for cycle in found:
            info.context.loaders.cycle.prime(cycle.id, cycle)
        return found  # type: ignore[return-value]

    @strawberry.field
    async def objectives(
        self,
        info: Ctx,
        filter: ObjectiveFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ObjectiveType]:
        window = page(first, after)
        session = await info.context.session()
        matching = await filtered_objectives(session, info.context.viewer, filter)
        stmt, params = matching.statement, matching.params
        if filter is not None and filter.health:
            # Health depends on today's date, so it is computed, then filtered, over the visible set.
            # In bulk: one batch of key results and one of cycles, however many candidates.
            from schema.figures import objectives_health

            wanted = {str(h) for h in filter.health}
            candidates = list((await session.execute(stmt.order_by(models.Objective.id), params)).scalars())
            info.context.loaders.prime_objectives(candidates)
            healths = await objectives_health(info, candidates)
            kept = [o for o, h in zip(candidates, healths, strict=True) if str(h) in wanted]
            chosen = kept[window.offset : window.offset + window.limit]
            return Connection.from_slice(chosen, window.offset, len(kept))
        total = (await session.execute(select(func.count()).select_from(stmt.subquery()), params)).scalar_one()
        rows = await session.execute(
            stmt.order_by(models.Objective.id).offset(window.offset).limit(window.limit), params
        )
        found = list(rows.scalars())
        info.context.loaders.prime_objectives(found)
        from schema.figures import load_for_page

        # What the page's nodes and their key results select, fragments included.
        node = selected_at(info.selected_fields, ("objectives", "edges", "node"))
        key_result_fields = {f.name for n in node if n.name == "keyResults" for f in _flattened(n.selections)}
        await load_for_page(info, found, {n.name for n in node}, key_result_fields)
        return Connection.from_slice(found, window.offset, total)

    @strawberry.field
    async def proposals(
        self,
        info: Ctx,
        status: ProposalStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ProposalType]:
        window = page(first, after)
        stmt = select(models.Proposal).where(
            models.Proposal.organization_id == info.context.viewer.organization_id,
            models.Proposal.objective_id.in_(visible_objective_ids(info.context.viewer)),
        )
        if status is not None:
            stmt = stmt.where(models.Proposal.status == str(status))
        session = await info.context.session()
        total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        rows = await session.execute(stmt.order_by(models.Proposal.id.desc()).offset(window.offset).limit(window.limit))
        return Connection.from_slice(list(rows.scalars()), window.offset, total)

    @strawberry.field
    async def notifications(
        self, info: Ctx, unread_only: bool | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[NotificationType]:
        window = page(first, after)
        viewer = info.context.viewer
        stmt = select(models.Notification).where(
            models.Notification.user_id == viewer.user_id,
            models.Notification.organization_id == viewer.organization_id,
            or_(
                models.Notification.objective_id.is_(None),
                models.Notification.objective_id.in_(visible_objective_ids(viewer)),
            ),
        )
        if unread_only:
            stmt = stmt.where(models.Notification.read_at.is_(None))
        session = await info.context.session()
        total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        rows = await session.execute(
            stmt.order_by(models.Notification.id.desc()).offset(window.offset).limit(window.limit)
        )
        return Connection.from_slice(list(rows.scalars()), window.offset, total)


__all__ = ["CoreQueries"]
