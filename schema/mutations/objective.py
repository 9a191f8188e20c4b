"""Objective and key result mutations: drafting, editing drafts, and the objective's transitions."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.enums import ObjectiveEvent
from schema.ids import decode_id, decode_optional
from schema.inputs import KeyResultInput, KeyResultPatch, ObjectiveInput, ObjectivePatch
from schema.mutations.runner import run_mutation
from schema.payloads import KeyResultPayload, ObjectivePayload
from workflow import enums, models
from workflow.services import key_results, objectives
from workflow.viewer import Viewer

Ctx = Info[Context, None]


def key_result_draft(given: KeyResultInput, field: str) -> key_results.KeyResultDraft:
    return key_results.KeyResultDraft(
        title=given.title,
        metric_name=given.metric_name,
        unit=given.unit,
        start_value=given.start_value,
        direction=given.direction,
        calculation_type=given.calculation_type,
        tracking_frequency=given.tracking_frequency,
        rollup=given.rollup,
        target_value=given.target_value,
        lift_value=given.lift_value,
        counter_metric=bool(given.counter_metric),
        weight=1.0 if given.weight is None else given.weight,
        owner_id=decode_optional(given.owner_id, "User", f"{field}.ownerId"),
    )


def objective_patch(patch: ObjectivePatch, field: str) -> dict[str, Any]:
    """Only the fields the client set; ids decoded to keys."""
    values = {name: getattr(patch, name) for name in objectives.OBJECTIVE_PATCH_FIELDS}
    values["parent_id"] = decode_optional(patch.parent_id, "Objective", f"{field}.parentId")
    return {name: value for name, value in values.items() if value is not None}


def key_result_patch(patch: KeyResultPatch, field: str) -> dict[str, Any]:
    values = {name: getattr(patch, name) for name in key_results.KEY_RESULT_PATCH_FIELDS}
    values["owner_id"] = decode_optional(patch.owner_id, "User", f"{field}.ownerId")
    return {name: value for name, value in values.items() if value is not None}


@strawberry.type
class ObjectiveMutations:
    @strawberry.mutation(description="A DRAFT objective, with its key results inline.")
    async def create_objective(self, info: Ctx, input: ObjectiveInput) -> ObjectivePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Objective:
            draft = objectives.ObjectiveDraft(
                cycle_id=decode_id(input.cycle_id, "Cycle", "input.cycleId"),
                title=input.title,
                description=input.description or "",
                motivation=input.motivation or "",
                owner_team_id=decode_optional(input.owner_team_id, "Team", "input.ownerTeamId"),
                owner_user_id=decode_optional(input.owner_user_id, "User", "input.ownerUserId"),
                commitment=input.commitment or enums.Commitment.ASPIRATIONAL,
                visibility=input.visibility or enums.Visibility.ORGANIZATION,
                tags=list(input.tags or []),
                parent_id=decode_optional(input.parent_id, "Objective", "input.parentId"),
                weight=1.0 if input.weight is None else input.weight,
            )
            krs = [key_result_draft(kr, f"input.keyResults[{i}]") for i, kr in enumerate(input.key_results or [])]
            return await objectives.create_objective(session, viewer, draft, krs)

        objective, errors = await run_mutation(info, action)
        return ObjectivePayload(objective=objective, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Edit a DRAFT in place, given the version you read; ACTIVE ones take proposals.")
    async def update_objective(
        self, info: Ctx, id: strawberry.ID, version: int, patch: ObjectivePatch
    ) -> ObjectivePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Objective:
            return await objectives.update_objective(
                session, viewer, decode_id(id, "Objective"), version, objective_patch(patch, "patch")
            )

        objective, errors = await run_mutation(info, action)
        return ObjectivePayload(objective=objective, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="SUBMIT, APPROVE, REQUEST_CHANGES (with a comment), CANCEL or COMPLETE.")
    async def transition_objective(
        self, info: Ctx, id: strawberry.ID, event: ObjectiveEvent, comment: str | None = None
    ) -> ObjectivePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Objective:
            return await objectives.transition_objective(session, viewer, decode_id(id, "Objective"), event, comment)

        objective, errors = await run_mutation(info, action)
        return ObjectivePayload(objective=objective, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation
    async def add_key_result(self, info: Ctx, objective_id: strawberry.ID, input: KeyResultInput) -> KeyResultPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.KeyResult:
            return await key_results.add_key_result(
                session,
                viewer,
                decode_id(objective_id, "Objective", "objectiveId"),
                key_result_draft(input, "input"),
            )

        kr, errors = await run_mutation(info, action)
        return KeyResultPayload(key_result=kr, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Edit a key result of a DRAFT, given the version you read.")
    async def update_key_result(
        self, info: Ctx, id: strawberry.ID, version: int, patch: KeyResultPatch
    ) -> KeyResultPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.KeyResult:
            return await key_results.update_key_result(
                session, viewer, decode_id(id, "KeyResult"), version, key_result_patch(patch, "patch")
            )

        kr, errors = await run_mutation(info, action)
        return KeyResultPayload(key_result=kr, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Remove a key result of a DRAFT (kept for history, gone from every list).")
    async def remove_key_result(self, info: Ctx, id: strawberry.ID) -> ObjectivePayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Objective:
            return await key_results.remove_key_result(session, viewer, decode_id(id, "KeyResult"))

        objective, errors = await run_mutation(info, action)
        return ObjectivePayload(objective=objective, user_errors=errors)  # type: ignore[arg-type]
