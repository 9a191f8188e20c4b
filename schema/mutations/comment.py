"""Comments on objectives and proposals."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.ids import from_global_id
from schema.mutations.runner import run_mutation
from schema.payloads import CommentPayload
from workflow import models
from workflow.errors import NotFound
from workflow.services import comments
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class CommentMutations:
    @strawberry.mutation(description="Comment on an objective or a proposal (`subjectId` names either).")
    async def add_comment(self, info: Ctx, subject_id: strawberry.ID, body: str) -> CommentPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Comment:
            parsed = from_global_id(subject_id)
            if parsed is None or parsed[0] not in ("Objective", "Proposal"):
                raise NotFound("objective or proposal", "subjectId")
            type_name, pk = parsed
            if type_name == "Proposal":
                return await comments.add_comment(session, viewer, body=body, proposal_id=pk)
            return await comments.add_comment(session, viewer, body=body, objective_id=pk)

        comment, errors = await run_mutation(info, action)
        return CommentPayload(comment=comment, user_errors=errors)  # type: ignore[arg-type]
