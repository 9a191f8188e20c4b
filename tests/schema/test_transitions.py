"""The machines' tables through the API: every pair moves as DESIGN says or is a typed refusal.

The actor is always allowed to act (an admin for cycles, an exec deciding on a team's submission
for objectives), so the outcome is decided by the table alone, and a refusal leaves the row as it was.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import OBJECTIVE, TRANSITION_CYCLE, TRANSITION_OBJECTIVE, mutate
from tests.workflow.test_machines import CYCLE_TABLE, OBJECTIVE_TABLE
from workflow.enums import CycleEvent, CyclePhase, ObjectiveEvent, ObjectiveStatus, Role, TeamRole


@pytest.mark.parametrize(("phase", "event"), list(itertools.product(CyclePhase, CycleEvent)))
async def test_cycle_transition(api: Api, factory: Factory, phase: CyclePhase, event: CycleEvent) -> None:
    org = await factory.organization()
    admin = await factory.user(org, Role.ADMIN)
    cycle = await factory.cycle(org, phase=phase, starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 3, 31))
    variables = {"id": to_global_id("Cycle", cycle.id), "event": event, "force": True, "reason": "table"}
    payload = await mutate(api, TRANSITION_CYCLE, variables, admin)
    expected = CYCLE_TABLE.get((phase, event))
    if expected is None:
        assert [e["code"] for e in payload["userErrors"]] == ["TRANSITION_NOT_ALLOWED"]
        assert payload["cycle"] is None
    else:
        assert payload["userErrors"] == []
        assert payload["cycle"]["phase"] == expected


@pytest.mark.parametrize(("status", "event"), list(itertools.product(ObjectiveStatus, ObjectiveEvent)))
async def test_objective_transition(api: Api, factory: Factory, status: ObjectiveStatus, event: ObjectiveEvent) -> None:
    org = await factory.organization()
    team = await factory.team(org, "Growth")
    exec_ = await factory.user(org, Role.EXEC)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    phase = CyclePhase.REVIEWING if event == ObjectiveEvent.COMPLETE else CyclePhase.NEGOTIATING
    cycle = await factory.cycle(org, phase=phase)
    objective = await factory.objective(cycle, team, status=status, author=lead, submitted_by_id=lead.id)
    await factory.key_result(objective)
    oid = to_global_id("Objective", objective.id)
    payload = await mutate(api, TRANSITION_OBJECTIVE, {"id": oid, "event": event, "comment": "table"}, exec_)
    expected = OBJECTIVE_TABLE.get((status, event))
    if expected is None:
        assert [e["code"] for e in payload["userErrors"]] == ["TRANSITION_NOT_ALLOWED"]
        after = (await api(OBJECTIVE, {"id": oid}, as_=exec_))["node"]
        assert (after["status"], after["version"]) == (status, 1)
    else:
        assert payload["userErrors"] == []
        assert payload["objective"]["status"] == expected
        assert payload["objective"]["version"] == 2
