"""The key result aggregates: the in-memory fold and the one-statement fold the service runs agree."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import Factory
from workflow import models
from workflow.computation.aggregates import FOLD_CHECK_IN, fold_check_in, fold_check_in_params

AGGREGATES = (
    "checkin_count",
    "value_sum",
    "value_min",
    "value_max",
    "last_value",
    "last_measured_at",
    "fit_count",
    "fit_sum_t",
    "fit_sum_tt",
    "fit_sum_v",
    "fit_sum_tv",
)


async def test_the_update_statement_folds_exactly_as_the_in_memory_fold(
    session: AsyncSession, factory: Factory
) -> None:
    org = await factory.organization()
    cycle = await factory.cycle(org)
    objective = await factory.objective(cycle)
    by_statement = await factory.key_result(objective)
    in_memory = models.KeyResult(**{name: getattr(by_statement, name) for name in AGGREGATES})
    start = dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC)
    # Out of order (a late entry for an earlier day must not become the last value), a new low, a new high.
    for days, value in ((3, 40.0), (1, 55.0), (7, 12.5), (7, 90.0), (2, -4.0)):
        measured_at = start + dt.timedelta(days=days)
        fold_check_in(in_memory, cycle, value, measured_at)
        await session.execute(
            FOLD_CHECK_IN,
            fold_check_in_params(cycle, by_statement.id, value, measured_at),
            execution_options={"synchronize_session": False},
        )
    await session.refresh(by_statement)
    for name in AGGREGATES:
        stored, expected = getattr(by_statement, name), getattr(in_memory, name)
        assert stored == expected or abs(stored - expected) < 1e-9, name
    assert (by_statement.last_value, by_statement.value_min, by_statement.value_max) == (90.0, -4.0, 90.0)
