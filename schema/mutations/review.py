"""End-of-cycle review: scoring key results and publishing a team's retrospective."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from schema.mutations.runner import run_mutation
from schema.payloads import KeyResultPayload
from schema.retrospectives import RetrospectivePayload, team_retrospective
from workflow import models
from workflow.services import scores
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class ReviewMutations:
    @strawberry.mutation(
        description="In REVIEWING: a 0.0-1.0 score and a reflection; scoring the last one completes the objective."
    )
    async def score_key_result(
        self, info: Ctx, id: strawberry.ID, score: float, reflection: str | None = None
    ) -> KeyResultPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.KeyResult:
            return await scores.score_key_result(session, viewer, decode_id(id, "KeyResult"), score, reflection)

        kr, errors = await run_mutation(info, action)
        return KeyResultPayload(key_result=kr, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Make a team's scores and reflections of a cycle visible to the organization.")
    async def publish_retrospective(
        self, info: Ctx, cycle_id: strawberry.ID, team_id: strawberry.ID
    ) -> RetrospectivePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Retrospective:
            return await scores.publish_retrospective(
                session, viewer, decode_id(cycle_id, "Cycle", "cycleId"), decode_id(team_id, "Team", "teamId")
            )

        retro, errors = await run_mutation(info, action)
        if retro is None:
            return RetrospectivePayload(user_errors=errors)
        return RetrospectivePayload(retrospective=await team_retrospective(info, retro.cycle_id, retro.team_id))
