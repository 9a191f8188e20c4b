"""Figures that need more than one row: they gather rows through the loaders, then compute."""

from __future__ import annotations

from typing import Any

from schema.context import Context
from workflow import enums, models
from workflow.computation import progress as figures

Info = Any  # strawberry Info[Context, None]


async def key_result_cycle(info: Info, kr: models.KeyResult) -> models.Cycle:
    loaders = info.context.loaders
    objective = await loaders.objective.load(kr.objective_id)
    if objective is None:
        # Reached only through a visible objective; an unloadable parent is a data fault.
        raise LookupError(f"key result {kr.id} has no readable objective")
    cycle: models.Cycle | None = await loaders.cycle.load(objective.cycle_id)
    assert cycle is not None
    return cycle


async def key_result_health(info: Info, kr: models.KeyResult) -> enums.Health:
    cycle = await key_result_cycle(info, kr)
    context: Context = info.context
    return figures.health(figures.progress(kr), figures.expected_progress(cycle, context.today), kr.checkin_count > 0)


async def objective_health(info: Info, objective: models.Objective) -> enums.Health:
    loaders = info.context.loaders
    krs = await loaders.key_results_by_objective.load(objective.id)
    cycle = await loaders.cycle.load(objective.cycle_id)
    assert cycle is not None
    return figures.health(
        figures.objective_progress(krs),
        figures.expected_progress(cycle, info.context.today),
        figures.objective_started(krs),
    )


async def aligned_progress(info: Info, objective: models.Objective) -> float:
    """Own progress weighed together with the aligned children's (recursively)."""
    loaders = info.context.loaders
    own = figures.objective_progress(await loaders.key_results_by_objective.load(objective.id))
    children = await loaders.objective_children.load(objective.id)
    if not children:
        return own
    pairs = [(own, 1.0)]
    for child in children:
        pairs.append((await aligned_progress(info, child), child.weight))
    mean = figures.weighted_mean(pairs)
    return own if mean is None else mean


async def reflection_visible(info: Info, objective: models.Objective) -> bool:
    """Reflections stay with the owning team and execs until the retrospective is published."""
    viewer = info.context.viewer
    if viewer.is_exec or objective.owner_user_id == viewer.user_id:
        return True
    if objective.owner_team_id is None:
        return False
    if objective.owner_team_id in viewer.team_ids:
        return True
    retro = await info.context.loaders.retrospective.load((objective.cycle_id, objective.owner_team_id))
    return retro is not None and retro.published


async def key_result_reflection_visible(info: Info, kr: models.KeyResult) -> bool:
    objective = await info.context.loaders.objective.load(kr.objective_id)
    return objective is not None and await reflection_visible(info, objective)


async def objective_lint(info: Info, objective: models.Objective) -> list[Any]:
    return []
