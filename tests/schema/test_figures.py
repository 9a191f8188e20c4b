"""Figures over HTTP: aligned progress, health filter, and statements that do not grow with N."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from tests.schema.test_alignment import bulk_tree
from workflow.enums import ObjectiveStatus, Role

FIGURES = """
query($filter: ObjectiveFilter) {
  objectives(first: 100, filter: $filter) {
    totalCount
    edges { node {
      title progress alignedProgress health color
      keyResults { currentValue progress health color projectedValue projectedCompletionOn nextCheckInDue }
    } }
  }
}
"""

ALIGNED = """
query($id: ID!) { node(id: $id) { ... on Objective { progress alignedProgress health color } } }
"""


@pytest.mark.parametrize("health_filter", [None, ["ON_TRACK", "AT_RISK", "BEHIND", "NOT_STARTED"]])
async def test_objectives_with_figures_cost_the_same_for_10_and_1000(
    api: Api,
    factory: Factory,
    session: AsyncSession,
    test_db: TransactionalDatabase,
    health_filter: list[str] | None,
) -> None:
    counts = []
    statements = []
    totals = []
    for count in (10, 1000):
        exec_, cycle = await bulk_tree(session, factory, count)
        variables = {"filter": {"cycleId": to_global_id("Cycle", cycle.id), "health": health_filter}}
        with count_statements(test_db) as counter:
            data = await api(FIGURES, variables, as_=exec_)
        counts.append(counter.count)
        statements.append([statement[:120] for statement in counter.statements])
        totals.append(data["objectives"]["totalCount"])
        kr = data["objectives"]["edges"][0]["node"]["keyResults"][0]
        # Stored aggregates: last 40 of 0 -> 100; fit through (10, 20) and (20, 40): slope 2, intercept 0.
        assert kr["currentValue"] == 40
        assert kr["progress"] == 0.4
        assert kr["projectedValue"] == pytest.approx(2 * 91)
        assert kr["projectedCompletionOn"] == "2026-11-20"
        assert kr["nextCheckInDue"] == "2026-10-28"
    assert totals == [10, 1000]
    assert counts[0] == counts[1], "\n".join(a[:90] + " | " + b[:90] for a, b in zip(*statements, strict=False))


async def test_aligned_progress_weighs_children_recursively(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org)
    parent = await factory.objective(cycle, company)
    await factory.check_in(await factory.key_result(parent, start=0, target=10), cycle, exec_, 5)
    child = await factory.objective(cycle, company, parent=parent)
    await factory.check_in(await factory.key_result(child, start=0, target=10), cycle, exec_, 10)
    grandchild = await factory.objective(cycle, company, parent=child, weight=2)
    await factory.check_in(await factory.key_result(grandchild, start=0, target=10), cycle, exec_, 0)
    await factory.objective(cycle, company, parent=parent, title="Umbrella without key results")
    cancelled = await factory.objective(cycle, company, parent=parent, status=ObjectiveStatus.CANCELLED)
    await factory.check_in(await factory.key_result(cancelled, start=0, target=10), cycle, exec_, 0)

    async def aligned(objective_id: int) -> float:
        data = await api(ALIGNED, {"id": to_global_id("Objective", objective_id)}, as_=exec_)
        return float(data["node"]["alignedProgress"])

    assert await aligned(grandchild.id) == 0.0
    # child: own 1.0 (weight 1) with the grandchild's 0.0 (weight 2).
    assert await aligned(child.id) == pytest.approx(1 / 3)
    # parent: own 0.5 with the child's 1/3; the umbrella has nothing to count, the cancelled no longer counts.
    assert await aligned(parent.id) == pytest.approx((0.5 + 1 / 3) / 2)


async def test_health_filter_selects_by_computed_health(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    exec_ = await factory.user(org, Role.EXEC)
    today = dt.datetime.now(dt.UTC).date()
    # Half-way through the cycle today, so expected progress is 0.5.
    cycle = await factory.cycle(org, starts_on=today - dt.timedelta(days=50), ends_on=today + dt.timedelta(days=50))
    for title, value in (("on track", 45), ("at risk", 36), ("behind", 10), ("not started", None)):
        objective = await factory.objective(cycle, company, title=title)
        kr = await factory.key_result(objective, start=0, target=100)
        if value is not None:
            await factory.check_in(kr, cycle, exec_, value)
    for health, title in (
        ("ON_TRACK", "on track"),
        ("AT_RISK", "at risk"),
        ("BEHIND", "behind"),
        ("NOT_STARTED", "not started"),
    ):
        data = await api(
            FIGURES, {"filter": {"cycleId": to_global_id("Cycle", cycle.id), "health": [health]}}, as_=exec_
        )
        assert [e["node"]["title"] for e in data["objectives"]["edges"]] == [title]
        assert data["objectives"]["edges"][0]["node"]["health"] == health
