"""Retrospective figures per team (DESIGN §3): average score, committed misses, calibration.

Calibration looks at a team's aspirational scores over its last cycles of the same kind: a team
that reaches >= 0.9 on aspirational objectives cycle after cycle sets its sights too low
("sandbagging"); one that stays below 0.4 sets them too high ("too hard"). One good or bad
quarter is noise, so a verdict needs a streak of at least `STREAK` cycles ending at the newest.

The figures are read in a constant number of statements (history cycles, objectives, key results,
retrospective rows) whatever the number of teams, then computed in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.computation.progress import weighted_mean
from workflow.computation.scoring import committed_missed, objective_score
from workflow.enums import Commitment, ObjectiveStatus
from workflow.models import Cycle, KeyResult, Objective, Retrospective
from workflow.policies import objective_visible
from workflow.viewer import Viewer

SANDBAGGING = "sandbagging"
TOO_HARD = "too hard"
CALIBRATED = "calibrated"

SANDBAGGING_FROM = 0.9
TOO_HARD_BELOW = 0.4
STREAK = 2
# How many cycles (this one included) calibration looks back over.
HISTORY = 4


def calibration(aspirational_scores_newest_first: Sequence[float | None]) -> str:
    """The verdict for one team from its per-cycle aspirational means, newest first.

    Cycles without aspirational objectives (None) neither extend nor break a streak.
    """
    scores = [s for s in aspirational_scores_newest_first if s is not None]
    if len(scores) >= STREAK:
        recent = scores[:STREAK]
        if all(s >= SANDBAGGING_FROM for s in recent):
            return SANDBAGGING
        if all(s < TOO_HARD_BELOW for s in recent):
            return TOO_HARD
    return CALIBRATED


def final_score(objective: Objective, key_results: Sequence[KeyResult]) -> float | None:
    """The objective's recorded score once scored, else the weighted mean of its key results' scores."""
    return objective.score if objective.score is not None else objective_score(key_results)


def mean_score(scored: Iterable[tuple[Objective, float | None]]) -> float | None:
    """Weighted by objective weight; objectives without any scorable key result do not count."""
    mean = weighted_mean([(score, objective.weight) for objective, score in scored if score is not None])
    return None if mean is None else round(mean, 2)


@dataclass(frozen=True)
class TeamRetrospectiveFigures:
    team_id: int
    cycle_id: int
    average_score: float | None
    committed_missed: int
    calibration: str
    published: bool


def retrospective_visible(viewer: Viewer, team_id: int, published: bool) -> bool:
    """Until published, a retrospective stays with the team and the execs (DESIGN §4)."""
    return published or viewer.is_exec or team_id in viewer.team_ids


async def compute_retrospectives(
    session: AsyncSession, viewer: Viewer, cycle: Cycle, team_ids: Collection[int] | None = None
) -> list[TeamRetrospectiveFigures]:
    """Every team with objectives (or a retrospective) in `cycle` the viewer may review, by team id.

    Four statements whatever the number of teams and objectives. Only objectives the viewer can see
    count, so the figures never reveal an objective the viewer could not open.
    """
    org = viewer.organization_id
    history = list(
        (
            await session.execute(
                select(Cycle.id)
                .where(
                    Cycle.organization_id == org,
                    Cycle.kind == cycle.kind,
                    Cycle.starts_on <= cycle.starts_on,
                )
                .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
                .limit(HISTORY)
            )
        ).scalars()
    )
    if cycle.id not in history:
        history = [cycle.id, *history[: HISTORY - 1]]

    objective_stmt = select(Objective).where(
        Objective.cycle_id.in_(history),
        Objective.owner_team_id.is_not(None),
        Objective.status != ObjectiveStatus.CANCELLED,
        objective_visible(viewer),
    )
    if team_ids is not None:
        objective_stmt = objective_stmt.where(Objective.owner_team_id.in_(list(team_ids)))
    objectives = list((await session.execute(objective_stmt.order_by(Objective.id))).scalars())

    key_results: dict[int, list[KeyResult]] = defaultdict(list)
    if objectives:
        rows = await session.execute(
            select(KeyResult).where(
                KeyResult.objective_id.in_([o.id for o in objectives]), KeyResult.removed.is_(False)
            )
        )
        for kr in rows.scalars():
            key_results[kr.objective_id].append(kr)

    retro_stmt = select(Retrospective).where(Retrospective.organization_id == org, Retrospective.cycle_id == cycle.id)
    if team_ids is not None:
        retro_stmt = retro_stmt.where(Retrospective.team_id.in_(list(team_ids)))
    published = {r.team_id: r.published for r in (await session.execute(retro_stmt)).scalars()}

    # (team, cycle) -> [(objective, score)]
    scored: dict[tuple[int, int], list[tuple[Objective, float | None]]] = defaultdict(list)
    for objective in objectives:
        assert objective.owner_team_id is not None
        scored[(objective.owner_team_id, objective.cycle_id)].append(
            (objective, final_score(objective, key_results[objective.id]))
        )

    teams = sorted({team for team, cycle_id in scored if cycle_id == cycle.id} | set(published))
    figures: list[TeamRetrospectiveFigures] = []
    for team in teams:
        is_published = published.get(team, False)
        if not retrospective_visible(viewer, team, is_published):
            continue
        current = scored.get((team, cycle.id), [])
        aspirational_by_cycle = [
            mean_score((o, s) for o, s in scored.get((team, c), []) if o.commitment == Commitment.ASPIRATIONAL)
            for c in history
        ]
        figures.append(
            TeamRetrospectiveFigures(
                team_id=team,
                cycle_id=cycle.id,
                average_score=mean_score(current),
                committed_missed=sum(1 for o, s in current if committed_missed(o, s)),
                calibration=calibration(aspirational_by_cycle),
                published=is_published,
            )
        )
    return figures
