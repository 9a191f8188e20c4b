"""Team retrospectives of a cycle: the `retrospectives` query part and the types mutations return.

`publishRetrospective` (schema/mutations) returns a `RetrospectivePayload` built with
`team_retrospective`, so a published retrospective reads the same from the mutation and the query.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from schema.types import CycleType, TeamType, UserError
from workflow import models
from workflow.computation.calibration import TeamRetrospectiveFigures, compute_retrospectives

Ctx = Info[Context, None]


@strawberry.type(name="TeamRetrospective")
class TeamRetrospective:
    average_score: float | None = strawberry.field(
        description="Weighted mean score of the team's objectives in the cycle; null while none is scorable."
    )
    committed_missed: int = strawberry.field(description="Committed objectives that scored below 1.0.")
    calibration: str = strawberry.field(
        description='"sandbagging", "too hard" or "calibrated", from the aspirational scores of recent cycles.'
    )
    published: bool
    team_id: strawberry.Private[int]
    cycle_id: strawberry.Private[int]

    @strawberry.field
    async def team(self, info: Ctx) -> TeamType:
        return await info.context.loaders.team.load(self.team_id)  # type: ignore[return-value]

    @strawberry.field
    async def cycle(self, info: Ctx) -> CycleType:
        return await info.context.loaders.cycle.load(self.cycle_id)  # type: ignore[return-value]

    @classmethod
    def from_figures(cls, figures: TeamRetrospectiveFigures) -> TeamRetrospective:
        return cls(
            average_score=figures.average_score,
            committed_missed=figures.committed_missed,
            calibration=figures.calibration,
            published=figures.published,
            team_id=figures.team_id,
            cycle_id=figures.cycle_id,
        )


@strawberry.type
class RetrospectivePayload:
    retrospective: TeamRetrospective | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def team_retrospectives(
    info: Ctx, cycle: models.Cycle, team_ids: list[int] | None = None
) -> list[TeamRetrospective]:
    session = await info.context.session()
    found = await compute_retrospectives(session, info.context.viewer, cycle, team_ids)
    return [TeamRetrospective.from_figures(f) for f in found]


async def team_retrospective(info: Ctx, cycle_id: int, team_id: int) -> TeamRetrospective | None:
    """One team's retrospective as the viewer may see it; None for a cycle or team out of reach."""
    cycle = await info.context.loaders.cycle.load(cycle_id)
    if cycle is None:
        return None
    found = await team_retrospectives(info, cycle, [team_id])
    return found[0] if found else None


@strawberry.type
class RetrospectiveQueries:
    @strawberry.field(description="Per team of the cycle: average score, committed misses and calibration.")
    async def retrospectives(self, info: Ctx, cycle_id: strawberry.ID) -> list[TeamRetrospective]:
        cycle = await info.context.loaders.cycle.load(decode_id(cycle_id, "Cycle", "cycleId"))
        if cycle is None:
            return []
        return await team_retrospectives(info, cycle)


__all__ = ["RetrospectivePayload", "RetrospectiveQueries", "TeamRetrospective", "team_retrospective"]
