"""Initiatives and experiments on key results."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.enums import InitiativeKind
from schema.ids import decode_id
from schema.mutations.runner import run_mutation
from schema.payloads import InitiativePayload
from workflow import models
from workflow.services import initiatives
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class InitiativeMutations:
    @strawberry.mutation
    async def add_initiative(
        self, info: Ctx, key_result_id: strawberry.ID, kind: InitiativeKind, title: str, url: str | None = None
    ) -> InitiativePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Initiative:
            return await initiatives.add_initiative(
                session,
                viewer,
                key_result_id=decode_id(key_result_id, "KeyResult", "keyResultId"),
                kind=kind,
                title=title,
                url=url,
            )

        initiative, errors = await run_mutation(info, action)
        return InitiativePayload(initiative=initiative, user_errors=errors)  # type: ignore[arg-type]
