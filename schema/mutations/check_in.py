"""Recording check-ins."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from schema.inputs import CheckInInput
from schema.mutations.runner import run_mutation
from schema.payloads import CheckInPayload
from workflow import models
from workflow.services import check_ins
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class CheckInMutations:
    @strawberry.mutation(
        description="A measurement of an ACTIVE key result. Repeating an `idempotencyKey` returns the first check-in."
    )
    async def record_check_in(self, info: Ctx, input: CheckInInput) -> CheckInPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> tuple[models.CheckIn, models.KeyResult]:
            draft = check_ins.CheckInDraft(
                key_result_id=decode_id(input.key_result_id, "KeyResult", "input.keyResultId"),
                value=input.value,
                note=input.note or "",
                confidence=input.confidence,
                measured_at=input.measured_at,
                idempotency_key=input.idempotency_key,
            )
            return await check_ins.record_check_in(session, viewer, draft)

        result, errors = await run_mutation(info, action)
        if result is None:
            return CheckInPayload(user_errors=errors)
        check_in, kr = result
        return CheckInPayload(check_in=check_in, key_result=kr)  # type: ignore[arg-type]
