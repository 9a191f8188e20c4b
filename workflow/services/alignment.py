"""Alignment guards (DESIGN §3): a parent must be visible, in the same or an enclosing cycle, and
never make the tree loop."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.errors import DomainError, ErrorCode, NotFound
from workflow.policies import objective_visible
from workflow.viewer import Viewer


async def _ancestors(session: AsyncSession, table: type[models.Objective] | type[models.Cycle], start: int) -> set[int]:
    """`start` and everything above it, in one recursive statement (works on SQLite and PostgreSQL)."""
    chain = select(table.id, table.parent_id).where(table.id == start).cte("chain", recursive=True)
    chain = chain.union(select(table.id, table.parent_id).join(chain, table.id == chain.c.parent_id))
    return set((await session.execute(select(chain.c.id))).scalars())


async def check_parent(
    session: AsyncSession,
    viewer: Viewer,
    objective_id: int | None,
    cycle_id: int,
    parent_id: int,
    field_name: str = "parentId",
) -> models.Objective:
    """The parent `objective_id` may align to, or a typed refusal."""
    parent = (
        await session.execute(
            select(models.Objective).where(models.Objective.id == parent_id, objective_visible(viewer))
        )
    ).scalar_one_or_none()
    if parent is None:
        raise NotFound("objective", field_name)
    if objective_id is not None and objective_id in await _ancestors(session, models.Objective, parent.id):
        raise DomainError(
            ErrorCode.ALIGNMENT_LOOP,
            "That parent sits below this objective: aligning to it would make a loop.",
            field_name,
        )
    if parent.cycle_id not in await _ancestors(session, models.Cycle, cycle_id):
        raise DomainError(
            ErrorCode.ALIGNMENT_CYCLE_MISMATCH,
            "A parent objective must be in the same cycle or in one that encloses it (e.g. the year of a quarter).",
            field_name,
        )
    return parent
