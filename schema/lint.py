"""The `lintObjective` query part: the OKR coach on a draft, before anything is saved."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.figures import lint_findings, objective_level
from schema.ids import decode_id, decode_optional
from schema.inputs import ObjectiveInput
from schema.types import LintFinding
from workflow.computation import lint

Ctx = Info[Context, None]


async def draft_of(info: Ctx, draft: ObjectiveInput) -> lint.ObjectiveDraft:
    loaders = info.context.loaders
    cycle_id = decode_id(draft.cycle_id, "Cycle", "cycleId")
    team_id = decode_optional(draft.owner_team_id, "Team", "ownerTeamId")
    owner_user_id = decode_optional(draft.owner_user_id, "User", "ownerUserId")
    team = None if team_id is None else await loaders.team.load(team_id)
    # The draft is not stored yet, so it is one more than the team already has.
    count = None if team is None else await loaders.team_objective_count.load((cycle_id, team.id)) + 1
    return lint.ObjectiveDraft(
        title=draft.title,
        motivation=draft.motivation or "",
        level=objective_level(owner_user_id, team),
        aligned=draft.parent_id is not None,
        key_results=[
            lint.KeyResultDraft.from_fields(
                kr.title,
                kr.unit,
                kr.start_value,
                kr.target_value,
                kr.lift_value,
                kr.calculation_type,
                kr.direction,
                bool(kr.counter_metric),
            )
            for kr in draft.key_results or []
        ],
        team_objectives=count,
        team_name="" if team is None else team.name,
    )


@strawberry.type
class LintQueries:
    @strawberry.field(description="The OKR coach's findings on a draft objective, each with a stable rule id.")
    async def lint_objective(self, info: Ctx, input: ObjectiveInput) -> list[LintFinding]:
        return lint_findings(lint.lint_objective(await draft_of(info, input)))


__all__ = ["LintQueries"]
