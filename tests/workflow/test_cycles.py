"""Cycle service entry points that are not reached through GraphQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import CyclePhase, ObjectiveStatus
from workflow.services.cycles import end_cycle_by_schedule


async def test_the_scheduler_ends_a_cycle_as_the_system(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE, ends_on=dt.date(2026, 10, 31))
    objective = await factory.objective(cycle, None, status=ObjectiveStatus.ACTIVE)
    await end_cycle_by_schedule(session, cycle, dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC))
    assert (cycle.phase, cycle.version) == (CyclePhase.REVIEWING, 2)
    event = (await session.execute(select(models.Event).where(models.Event.cycle_id == cycle.id))).scalar_one()
    assert (event.kind, event.actor_id, event.changes) == (
        "cycle.end",
        None,
        [{"path": "phase", "before": "ACTIVE", "after": "REVIEWING"}],
    )
    await session.refresh(objective)
    assert objective.status == ObjectiveStatus.ACTIVE  # scoring, not the scheduler, completes objectives
