"""Figures that need more than one row: they gather rows through the loaders, then compute."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schema.context import Context
from schema.loaders import NotLoaded, deferred, peek
from schema.types import LintFinding
from workflow import enums, models
from workflow.computation import lint
from workflow.computation import progress as figures

Info = Any  # strawberry Info[Context, None]


@dataclass(frozen=True, slots=True)
class ObjectiveFigures:
    progress: float
    health: enums.Health


def objective_figures_now(info: Info, objective: models.Objective) -> ObjectiveFigures | None:
    """Progress and health from rows the request already holds; None when a load is still needed.

    A whole tree or list resolves each node's figure fields synchronously this way, once per node,
    instead of three awaits per node through graphql-core's async machinery.
    """
    loaders = info.context.loaders
    memo: dict[int, ObjectiveFigures] = loaders.objective_figures
    found = memo.get(objective.id)
    if found is not None:
        return found
    krs = peek(loaders.key_results_by_objective, objective.id)
    cycle = peek(loaders.cycle, objective.cycle_id)
    if isinstance(krs, NotLoaded) or isinstance(cycle, NotLoaded) or cycle is None:
        return None
    value = figures.objective_progress(krs)
    expected = figures.expected_progress(cycle, info.context.today)
    health = figures.health(value, expected, figures.objective_started(krs))
    found = memo[objective.id] = ObjectiveFigures(value, health)
    return found


def objective_progress_soon(info: Info, objective: models.Objective) -> float:
    now = objective_figures_now(info, objective)
    if now is not None:
        return now.progress
    krs = peek(info.context.loaders.key_results_by_objective, objective.id)
    if not isinstance(krs, NotLoaded):
        return figures.objective_progress(krs)
    return deferred(_objective_progress(info, objective))


async def _objective_progress(info: Info, objective: models.Objective) -> float:
    return figures.objective_progress(await info.context.loaders.key_results_by_objective.load(objective.id))


def _request_health_rows(info: Info, objective: models.Objective) -> None:
    """Ask for what health needs now, in the resolver's synchronous pass, not when its coroutine runs.

    The cycle batch then goes out in the same tick as the key results sibling fields ask for, ahead
    of them, so by the time those key results' own health and projections resolve, their cycle is
    at hand and they answer synchronously. The loads are the ones the coroutine awaits anyway.
    """
    loaders = info.context.loaders
    loaders.cycle.load(objective.cycle_id)
    loaders.key_results_by_objective.load(objective.id)


def objective_health_soon(info: Info, objective: models.Objective) -> enums.Health:
    now = objective_figures_now(info, objective)
    if now is not None:
        return now.health
    _request_health_rows(info, objective)
    return deferred(objective_health(info, objective))


def objective_color_soon(info: Info, objective: models.Objective) -> enums.Color:
    now = objective_figures_now(info, objective)
    if now is not None:
        return figures.HEALTH_COLORS[now.health]
    _request_health_rows(info, objective)
    return deferred(_objective_color(info, objective))


async def _objective_color(info: Info, objective: models.Objective) -> enums.Color:
    return figures.HEALTH_COLORS[await objective_health(info, objective)]


def key_result_cycle_now(info: Info, kr: models.KeyResult) -> models.Cycle | None:
    """The key result's cycle when its objective and cycle are already loaded, else None."""
    loaders = info.context.loaders
    objective = peek(loaders.objective, kr.objective_id)
    if isinstance(objective, NotLoaded) or objective is None:
        return None
    cycle = peek(loaders.cycle, objective.cycle_id)
    return None if isinstance(cycle, NotLoaded) else cycle


def key_result_health_soon(info: Info, kr: models.KeyResult) -> enums.Health:
    cycle = key_result_cycle_now(info, kr)
    if cycle is None:
        return deferred(key_result_health(info, kr))
    expected = figures.expected_progress(cycle, info.context.today)
    return figures.health(figures.progress(kr), expected, kr.checkin_count > 0)


def key_result_color_soon(info: Info, kr: models.KeyResult) -> enums.Color:
    cycle = key_result_cycle_now(info, kr)
    if cycle is None:
        return deferred(_key_result_color(info, kr))
    expected = figures.expected_progress(cycle, info.context.today)
    return figures.HEALTH_COLORS[figures.health(figures.progress(kr), expected, kr.checkin_count > 0)]


async def _key_result_color(info: Info, kr: models.KeyResult) -> enums.Color:
    return figures.HEALTH_COLORS[await key_result_health(info, kr)]


def projected_value_soon(info: Info, kr: models.KeyResult) -> float | None:
    cycle = key_result_cycle_now(info, kr)
    if cycle is None:
        return deferred(_projected_value(info, kr))
    return figures.projected_value(kr, cycle)


async def _projected_value(info: Info, kr: models.KeyResult) -> float | None:
    return figures.projected_value(kr, await key_result_cycle(info, kr))


def projected_completion_soon(info: Info, kr: models.KeyResult) -> dt.date | None:
    cycle = key_result_cycle_now(info, kr)
    if cycle is None:
        return deferred(_projected_completion(info, kr))
    return figures.projected_completion(kr, cycle)


async def _projected_completion(info: Info, kr: models.KeyResult) -> dt.date | None:
    return figures.projected_completion(kr, await key_result_cycle(info, kr))


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
    return (await objectives_health(info, [objective]))[0]


async def objectives_health(info: Info, objectives: Sequence[models.Objective]) -> list[enums.Health]:
    """Health of many objectives at once: one batch of key results and one of cycles, whatever their number."""
    loaders = info.context.loaders
    today = info.context.today
    cycle_ids = list({o.cycle_id for o in objectives})
    # Asked for before the key results are awaited, so both batches go out in the same tick and
    # the cycles are at hand by the time the key results' own fields resolve (synchronously).
    cycles_loading = loaders.cycle.load_many(cycle_ids)
    key_results = await loaders.key_results_by_objective.load_many([o.id for o in objectives])
    cycles = dict(zip(cycle_ids, await cycles_loading, strict=True))
    found: list[enums.Health] = []
    for objective, krs in zip(objectives, key_results, strict=True):
        cycle = cycles[objective.cycle_id]
        assert cycle is not None
        found.append(
            figures.health(
                figures.objective_progress(krs), figures.expected_progress(cycle, today), figures.objective_started(krs)
            )
        )
    return found


async def aligned_progress(info: Info, objective: models.Objective) -> float:
    """Own progress weighed together with the aligned children's, recursively.

    The whole visible subtree comes in one batched statement (and its key results in one more),
    whatever its depth and however many objectives ask at once. The objective's own progress
    counts with weight 1 only when it has key results that count: an umbrella objective without
    any is measured by its children alone. Cancelled children no longer count.
    """
    loaders = info.context.loaders
    below = await loaders.aligned_descendants.load(objective.id)
    children: dict[int, list[models.Objective]] = {}
    for descendant in below:
        if descendant.parent_id is not None:
            children.setdefault(descendant.parent_id, []).append(descendant)
    ids = [objective.id, *(d.id for d in below)]
    key_results = dict(zip(ids, await loaders.key_results_by_objective.load_many(ids), strict=True))

    # Post-order without recursion: a deep chain must not hit the interpreter's stack limit.
    result: dict[int, float | None] = {}
    entered: set[int] = set()
    stack: list[tuple[models.Objective, bool]] = [(objective, False)]
    while stack:
        node, expanded = stack.pop()
        if node.id in result:
            continue
        if not expanded:
            if node.id in entered:  # a loop in stored data: stop going round it
                continue
            entered.add(node.id)
            stack.append((node, True))
            stack.extend((child, False) for child in children.get(node.id, []) if child.id not in result)
            continue
        krs = key_results[node.id]
        pairs: list[tuple[float, float]] = []
        if any(not kr.counter_metric and kr.weight > 0 for kr in krs):
            pairs.append((figures.objective_progress(krs), 1.0))
        for child in children.get(node.id, []):
            child_value = result.get(child.id)
            if child_value is not None:
                pairs.append((child_value, child.weight))
        result[node.id] = figures.weighted_mean(pairs)
    value = result[objective.id]
    return 0.0 if value is None else value


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


async def objective_lint(info: Info, objective: models.Objective) -> list[LintFinding]:
    """The coach's findings on a stored objective: the same rules as `lintObjective` on a draft."""
    loaders = info.context.loaders
    krs = await loaders.key_results_by_objective.load(objective.id)
    team = None if objective.owner_team_id is None else await loaders.team.load(objective.owner_team_id)
    count = None if team is None else await loaders.team_objective_count.load((objective.cycle_id, team.id))
    draft = lint.ObjectiveDraft(
        title=objective.title,
        motivation=objective.motivation,
        level=objective_level(objective.owner_user_id, team),
        aligned=objective.parent_id is not None,
        key_results=[
            lint.KeyResultDraft.from_fields(
                kr.title,
                kr.unit,
                kr.start_value,
                kr.target_value,
                kr.lift_value,
                kr.calculation_type,
                kr.direction,
                kr.counter_metric,
            )
            for kr in krs
        ],
        team_objectives=count,
        team_name="" if team is None else team.name,
    )
    return lint_findings(lint.lint_objective(draft))


def objective_level(owner_user_id: int | None, team: models.Team | None) -> enums.ObjectiveLevel:
    """Derived, never stored: an individual's, the root team's (company) or a team's."""
    if owner_user_id is not None:
        return enums.ObjectiveLevel.INDIVIDUAL
    if team is not None and team.parent_id is None:
        return enums.ObjectiveLevel.COMPANY
    return enums.ObjectiveLevel.TEAM


def lint_findings(findings: Sequence[lint.Finding]) -> list[LintFinding]:
    return [LintFinding(rule=f.rule, severity=f.severity, message=f.message, field=f.field) for f in findings]


# What the fields of a page of objectives read besides the objective row: with these loaded before
# the page is returned, every node completes synchronously instead of awaiting its own futures.
NEEDS_KEY_RESULTS = frozenset({"keyResults", "progress", "health", "color"})
NEEDS_CYCLE = frozenset({"health", "color"})
KEY_RESULT_NEEDS_CYCLE = frozenset({"health", "color", "projectedValue", "projectedCompletionOn"})


async def load_for_page(
    info: Info, objectives: list[models.Objective], node_fields: set[str], key_result_fields: set[str]
) -> None:
    """Run, up front, the batches the page's fields would each ask for: the same statements, but
    awaited once here rather than by a coroutine per node (a task and a gather each)."""
    loaders = info.context.loaders
    loads: list[Any] = []
    if node_fields & NEEDS_KEY_RESULTS:
        loads.append(loaders.key_results_by_objective.load_many([o.id for o in objectives]))
    if node_fields & NEEDS_CYCLE or ("keyResults" in node_fields and key_result_fields & KEY_RESULT_NEEDS_CYCLE):
        loads.append(loaders.cycle.load_many(sorted({o.cycle_id for o in objectives})))
    if loads:
        await asyncio.gather(*loads)
