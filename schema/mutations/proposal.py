"""Proposal mutations: change requests against ACTIVE objectives and their review."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.enums import ReviewDecision
from schema.ids import decode_id
from schema.inputs import ProposalInput
from schema.mutations.objective import key_result_draft, key_result_patch, objective_patch
from schema.mutations.runner import run_mutation, user_error
from schema.payloads import ProposalPayload
from workflow import models
from workflow.services import proposals
from workflow.viewer import Viewer

Ctx = Info[Context, None]


def proposal_draft(given: ProposalInput) -> proposals.ProposalDraft:
    changes = []
    for i, item in enumerate(given.key_results or []):
        field = f"input.keyResults[{i}]"
        changes.append(
            proposals.KeyResultChangeDraft(
                key_result_id=None
                if item.key_result_id is None
                else decode_id(item.key_result_id, "KeyResult", f"{field}.keyResultId"),
                patch=None if item.patch is None else key_result_patch(item.patch, f"{field}.patch"),
                add=None if item.add is None else key_result_draft(item.add, f"{field}.add"),
                remove=bool(item.remove),
            )
        )
    return proposals.ProposalDraft(
        objective_id=decode_id(given.objective_id, "Objective", "input.objectiveId"),
        base_version=given.base_version,
        rationale=given.rationale,
        objective_patch={} if given.objective is None else objective_patch(given.objective, "input.objective"),
        key_results=changes,
        cancel=bool(given.cancel),
    )


@strawberry.type
class ProposalMutations:
    @strawberry.mutation(description="Propose changes to an ACTIVE objective, written against `baseVersion`.")
    async def create_proposal(self, info: Ctx, input: ProposalInput) -> ProposalPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Proposal:
            return await proposals.create_proposal(session, viewer, proposal_draft(input))

        proposal, errors = await run_mutation(info, action)
        return ProposalPayload(proposal=proposal, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="APPROVE applies every change at once; REJECT and REQUEST_CHANGES need a comment. "
        "A proposal whose objective moved past its baseVersion turns STALE instead of applying."
    )
    async def review_proposal(
        self, info: Ctx, id: strawberry.ID, decision: ReviewDecision, comment: str | None = None
    ) -> ProposalPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> proposals.ReviewOutcome:
            return await proposals.review_proposal(session, viewer, decode_id(id, "Proposal"), decision, comment)

        outcome, errors = await run_mutation(info, action)
        if outcome is None:
            return ProposalPayload(user_errors=errors)
        # A STALE mark is kept (it is news for the author) while the approval itself is refused.
        refusals = [user_error(outcome.refusal)] if outcome.refusal is not None else []
        return ProposalPayload(proposal=outcome.proposal, user_errors=refusals)  # type: ignore[arg-type]

    @strawberry.mutation(description="The author rewrites a CHANGES_REQUESTED or STALE proposal; it is OPEN again.")
    async def revise_proposal(self, info: Ctx, id: strawberry.ID, input: ProposalInput) -> ProposalPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Proposal:
            return await proposals.revise_proposal(session, viewer, decode_id(id, "Proposal"), proposal_draft(input))

        proposal, errors = await run_mutation(info, action)
        return ProposalPayload(proposal=proposal, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def withdraw_proposal(self, info: Ctx, id: strawberry.ID) -> ProposalPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Proposal:
            return await proposals.withdraw_proposal(session, viewer, decode_id(id, "Proposal"))

        proposal, errors = await run_mutation(info, action)
        return ProposalPayload(proposal=proposal, user_errors=errors)  # type: ignore[arg-type]
