"""State machines (DESIGN §2) — placeholder until the workflow issue lands."""

from __future__ import annotations

from workflow import enums, models
from workflow.viewer import Viewer


def cycle_events_available(cycle: models.Cycle, viewer: Viewer) -> list[enums.CycleEvent]:
    return []


def objective_events_available(
    objective: models.Objective, cycle: models.Cycle, viewer: Viewer
) -> list[enums.ObjectiveEvent]:
    return []
