"""Cycle mutations: create one, move it through its phases."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.enums import CycleEvent
from schema.ids import decode_id, decode_optional
from schema.inputs import CycleInput
from schema.mutations.runner import run_mutation
from schema.payloads import CyclePayload
from workflow import models
from workflow.services import cycles
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class CycleMutations:
    @strawberry.mutation(description="Admins and execs: a new cycle in PLANNING. Quarters may not overlap.")
    async def create_cycle(self, info: Ctx, input: CycleInput) -> CyclePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Cycle:
            return await cycles.create_cycle(
                session,
                viewer,
                name=input.name,
                kind=input.kind,
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                parent_id=decode_optional(input.parent_id, "Cycle", "input.parentId"),
            )

        cycle, errors = await run_mutation(info, action)
        return CyclePayload(cycle=cycle, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Fire a phase event; `force` with a `reason` overrides ACTIVATE and CLOSE guards.")
    async def transition_cycle(
        self,
        info: Ctx,
        id: strawberry.ID,
        event: CycleEvent,
        reason: str | None = None,
        force: bool | None = None,
    ) -> CyclePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Cycle:
            return await cycles.transition_cycle(
                session,
                viewer,
                decode_id(id, "Cycle"),
                event,
                reason=reason,
                force=bool(force),
                today=info.context.today,
            )

        cycle, errors = await run_mutation(info, action)
        return CyclePayload(cycle=cycle, user_errors=errors)  # type: ignore[arg-type]
