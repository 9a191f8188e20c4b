"""Proposals: change requests against agreed (ACTIVE) objectives, reviewed by the other party.

A proposal stores its changes as rows (`op` + `payload` to apply them, `path`/`before`/`after` for
reviewers). Approval applies every change in the approving transaction. Two guards keep it exact:
the objective must still be at the proposal's `baseVersion` (else the proposal turns STALE and the
approval is refused), and the proposal row itself moves with `UPDATE ... WHERE version = :read`, so
two approvals racing each other apply it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import machines, models, permissions
from workflow.enums import ObjectiveStatus, ProposalStatus, ReviewDecision
from workflow.errors import DomainError, ErrorCode, Forbidden, NotFound, ValidationFailed, VersionConflict
from workflow.policies import visible_objective_ids
from workflow.services import alignment
from workflow.services.events import change, notify, record_event
from workflow.services.key_results import (
    KeyResultDraft,
    clean_key_result,
    clean_key_result_patch,
    next_position,
)
from workflow.services.objectives import (
    apply_status,
    camel,
    clean_objective_patch,
    guarded_update,
    load_objective,
    parent_owner_team_id,
    sync_tags,
)
from workflow.viewer import Viewer

RATIONALE_MAX = 10_000

OP_OBJECTIVE_SET = "objective.set"
OP_REALIGN = "realign"
OP_KR_ADD = "key_result.add"
OP_KR_SET = "key_result.set"
OP_KR_REMOVE = "key_result.remove"
OP_CANCEL = "cancel"


@dataclass
class KeyResultChangeDraft:
    key_result_id: int | None = None
    patch: Mapping[str, Any] | None = None
    add: KeyResultDraft | None = None
    remove: bool = False


@dataclass
class ProposalDraft:
    objective_id: int
    base_version: int
    rationale: str
    objective_patch: Mapping[str, Any] = field(default_factory=dict)
    key_results: Sequence[KeyResultChangeDraft] = ()
    cancel: bool = False


@dataclass
class ReviewOutcome:
    """The reviewed proposal, and a refusal that must not undo what was recorded (a STALE mark)."""

    proposal: models.Proposal
    refusal: DomainError | None = None


class StaleProposal(DomainError):
    def __init__(self, base: int, actual: int) -> None:
        super().__init__(
            ErrorCode.STALE_PROPOSAL,
            f"The objective moved on since this proposal was written (version {base}, now {actual}). "
            "It is STALE until its author revises it onto the current version.",
            "id",
        )


# ---- building changes --------------------------------------------------------------------------


async def _title_of(session: AsyncSession, objective_id: int | None) -> str | None:
    if objective_id is None:
        return None
    return (
        await session.execute(select(models.Objective.title).where(models.Objective.id == objective_id))
    ).scalar_one_or_none()


def _row(
    op: str, path: str, before: Any, after: Any, payload: dict[str, Any], kr_id: int | None = None
) -> dict[str, Any]:
    rendered = change(path, before, after)
    return {
        "op": op,
        "path": path,
        "before": rendered["before"],
        "after": rendered["after"],
        "payload": payload,
        "key_result_id": kr_id,
    }


async def _live_key_results(session: AsyncSession, objective_id: int) -> dict[int, models.KeyResult]:
    rows = await session.execute(
        select(models.KeyResult)
        .where(models.KeyResult.objective_id == objective_id, models.KeyResult.removed.is_(False))
        .execution_options(populate_existing=True)
    )
    return {kr.id: kr for kr in rows.scalars()}


async def build_changes(
    session: AsyncSession, viewer: Viewer, objective: models.Objective, draft: ProposalDraft
) -> list[dict[str, Any]]:
    """Validate a proposal's content against the objective as it is now; one row per field change."""
    changes: list[dict[str, Any]] = []
    values = await clean_objective_patch(session, viewer, objective, draft.objective_patch, "input.objective.")
    for name, value in values.items():
        if name == "parent_id":
            before_title, after_title = await _title_of(session, objective.parent_id), await _title_of(session, value)
            changes.append(_row(OP_REALIGN, "objective.parent", before_title, after_title, {"parent_id": value}))
        else:
            path = f"objective.{camel(name)}"
            changes.append(
                _row(OP_OBJECTIVE_SET, path, getattr(objective, name), value, {"field": name, "value": value})
            )
    live = await _live_key_results(session, objective.id)
    for i, item in enumerate(draft.key_results):
        where = f"input.keyResults[{i}]"
        kinds = sum([item.add is not None, item.patch is not None, bool(item.remove)])
        if kinds != 1:
            raise ValidationFailed("Each key result change either adds, patches or removes one key result.", where)
        if item.add is not None:
            cleaned = await clean_key_result(session, viewer, asdict(item.add), f"{where}.add.")
            summary = f"{cleaned['title']}: {cleaned['start_value']:g} → {cleaned['target_value']:g} {cleaned['unit']}"
            changes.append(_row(OP_KR_ADD, "keyResults", None, summary.strip(), {"values": cleaned}))
            continue
        kr = live.get(item.key_result_id) if item.key_result_id is not None else None
        if kr is None:
            raise NotFound("key result of this objective", f"{where}.keyResultId")
        if item.remove:
            changes.append(_row(OP_KR_REMOVE, f"keyResults[{kr.title}]", kr.title, None, {}, kr.id))
            continue
        kr_values = await clean_key_result_patch(session, viewer, kr, item.patch or {}, f"{where}.patch.")
        for name, value in kr_values.items():
            path = f"keyResults[{kr.title}].{camel(name)}"
            changes.append(_row(OP_KR_SET, path, getattr(kr, name), value, {"field": name, "value": value}, kr.id))
    if draft.cancel:
        changes.append(_row(OP_CANCEL, "status", objective.status, ObjectiveStatus.CANCELLED, {}))
    if not changes:
        raise ValidationFailed("The proposal changes nothing.", "input")
    return changes


async def _store_changes(session: AsyncSession, proposal: models.Proposal, changes: list[dict[str, Any]]) -> None:
    session.add_all(
        models.ProposalChange(organization_id=proposal.organization_id, proposal_id=proposal.id, position=i, **c)
        for i, c in enumerate(changes)
    )
    await session.flush()


def _clean_rationale(rationale: str) -> str:
    rationale = rationale.strip()
    if not rationale:
        raise ValidationFailed("Explain why: a rationale is required.", "input.rationale")
    if len(rationale) > RATIONALE_MAX:
        raise ValidationFailed(f"Keep the rationale under {RATIONALE_MAX} characters.", "input.rationale")
    return rationale


def _ensure_agreed(objective: models.Objective) -> None:
    if objective.status == ObjectiveStatus.DRAFT:
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED, "This objective is still a DRAFT: edit it in place.", "input.objectiveId"
        )
    if objective.status != ObjectiveStatus.ACTIVE:
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            f"Proposals change ACTIVE objectives; this one is {objective.status}.",
            "input.objectiveId",
        )


async def _notify_reviewers(
    session: AsyncSession, viewer: Viewer, objective: models.Objective, proposal: models.Proposal, message: str
) -> None:
    recipients = await permissions.other_party_ids(
        session,
        organization_id=objective.organization_id,
        acting_side=permissions.side_of(viewer.role),
        owner_team_id=objective.owner_team_id,
        owner_user_id=objective.owner_user_id,
        parent_owner_team_id=await parent_owner_team_id(session, objective),
    )
    await notify(
        session,
        organization_id=objective.organization_id,
        user_ids=recipients,
        kind="review_requested",
        message=message,
        subject_type="Proposal",
        subject_id=proposal.id,
        objective_id=objective.id,
        skip_user_id=viewer.user_id,
    )


async def _record(
    session: AsyncSession,
    viewer: Viewer | None,
    proposal: models.Proposal,
    kind: str,
    changes: Sequence[Mapping[str, Any]] = (),
    note: str = "",
) -> None:
    await record_event(
        session,
        organization_id=proposal.organization_id,
        actor=viewer,
        kind=kind,
        subject_type="Proposal",
        subject_id=proposal.id,
        objective_id=proposal.objective_id,
        version=proposal.version,
        changes=changes,
        note=note,
    )


# ---- use cases ---------------------------------------------------------------------------------


async def create_proposal(session: AsyncSession, viewer: Viewer, draft: ProposalDraft) -> models.Proposal:
    objective = await load_objective(session, viewer, draft.objective_id, field_name="input.objectiveId")
    _ensure_agreed(objective)
    if not permissions.may_propose(viewer, objective):
        raise Forbidden("The owning team, the owners and execs propose changes to this objective.")
    rationale = _clean_rationale(draft.rationale)
    if draft.base_version != objective.version:
        raise VersionConflict("objective", draft.base_version, objective.version)
    changes = await build_changes(session, viewer, objective, draft)
    proposal = models.Proposal(
        organization_id=objective.organization_id,
        objective_id=objective.id,
        author_id=viewer.user_id,
        rationale=rationale,
        base_version=draft.base_version,
        status=ProposalStatus.OPEN,
        cancel=draft.cancel,
        version=1,
    )
    session.add(proposal)
    await session.flush()
    await _store_changes(session, proposal, changes)
    await _record(
        session, viewer, proposal, "proposal.created", [change("proposal", None, rationale), *changes], rationale
    )
    await _notify_reviewers(
        session, viewer, objective, proposal, f"A change to “{objective.title}” awaits your review."
    )
    return proposal


async def load_proposal(
    session: AsyncSession, viewer: Viewer, proposal_id: int, *, field_name: str = "id"
) -> models.Proposal:
    found = (
        await session.execute(
            select(models.Proposal)
            .where(models.Proposal.id == proposal_id, models.Proposal.objective_id.in_(visible_objective_ids(viewer)))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("proposal", field_name)
    return found


async def _move(session: AsyncSession, proposal: models.Proposal, values: Mapping[str, Any]) -> None:
    """The proposal's own guard: a concurrent decision on it turns this one into a CONFLICT."""
    try:
        await guarded_update(session, proposal, proposal.version, values, "proposal")
    except VersionConflict:
        raise DomainError(
            ErrorCode.CONFLICT, "Someone decided on this proposal at the same time. Reload it.", "id"
        ) from None


DECISION_KINDS = {
    ReviewDecision.APPROVE: "proposal.applied",
    ReviewDecision.REJECT: "proposal.rejected",
    ReviewDecision.REQUEST_CHANGES: "proposal.changes_requested",
}


async def review_proposal(
    session: AsyncSession, viewer: Viewer, proposal_id: int, decision: ReviewDecision, comment: str | None
) -> ReviewOutcome:
    proposal = await load_proposal(session, viewer, proposal_id)
    # Lock the objective first, then re-read the proposal: a concurrent approval waits here and
    # then sees the proposal already APPLIED.
    objective = await load_objective(session, viewer, proposal.objective_id, lock=True)
    proposal = await load_proposal(session, viewer, proposal_id)
    author_role = await permissions.role_of(session, proposal.organization_id, proposal.author_id)
    parent_team = await parent_owner_team_id(session, objective)
    if not permissions.may_review_proposal(viewer, proposal, objective, author_role, parent_team):
        raise Forbidden(
            "A proposal is decided by the other party: an exec or the parent objective's owner for a team's "
            "proposal, the owning team's lead for an exec's; never by its author."
        )
    comment = (comment or "").strip()
    if decision == ReviewDecision.APPROVE and proposal.status == ProposalStatus.OPEN:
        if objective.version != proposal.base_version:
            return await _mark_stale(session, viewer, proposal, objective)
        _ensure_agreed(objective)
    new_status = machines.fire(machines.proposal_machine, proposal.status, decision, what="proposal", comment=comment)
    before = proposal.status
    await _move(session, proposal, {"status": new_status})
    session.add(
        models.ProposalReview(
            organization_id=proposal.organization_id,
            proposal_id=proposal.id,
            reviewer_id=viewer.user_id,
            decision=decision,
            comment=comment,
        )
    )
    if comment:
        session.add(
            models.Comment(
                organization_id=proposal.organization_id,
                objective_id=proposal.objective_id,
                proposal_id=proposal.id,
                author_id=viewer.user_id,
                body=comment,
            )
        )
    await session.flush()
    await _record(session, viewer, proposal, DECISION_KINDS[decision], [change("status", before, new_status)], comment)
    if decision == ReviewDecision.APPROVE:
        await apply_changes(session, viewer, proposal, objective)
    await notify(
        session,
        organization_id=proposal.organization_id,
        user_ids=[proposal.author_id],
        kind="proposal_decided",
        message=f"Your proposal on “{objective.title}” was {str(new_status).lower().replace('_', ' ')}.",
        subject_type="Proposal",
        subject_id=proposal.id,
        objective_id=objective.id,
        skip_user_id=viewer.user_id,
    )
    return ReviewOutcome(proposal)


async def _mark_stale(
    session: AsyncSession, viewer: Viewer, proposal: models.Proposal, objective: models.Objective
) -> ReviewOutcome:
    new_status = machines.fire(
        machines.proposal_machine, proposal.status, machines.PROPOSAL_MARK_STALE, what="proposal"
    )
    await _move(session, proposal, {"status": new_status})
    await _record(
        session,
        viewer,
        proposal,
        "proposal.stale",
        [
            change("status", ProposalStatus.OPEN, new_status),
            change("objective.version", proposal.base_version, objective.version),
        ],
    )
    await notify(
        session,
        organization_id=proposal.organization_id,
        user_ids=[proposal.author_id],
        kind="proposal_stale",
        message=f"“{objective.title}” changed since your proposal: revise it onto the current version.",
        subject_type="Proposal",
        subject_id=proposal.id,
        objective_id=objective.id,
        skip_user_id=viewer.user_id,
    )
    return ReviewOutcome(proposal, StaleProposal(proposal.base_version, objective.version))


async def apply_changes(
    session: AsyncSession, viewer: Viewer, proposal: models.Proposal, objective: models.Objective
) -> None:
    """Every change of the proposal, in this transaction; the objective moves one version on."""
    rows = list(
        (
            await session.execute(
                select(models.ProposalChange)
                .where(models.ProposalChange.proposal_id == proposal.id)
                .order_by(models.ProposalChange.position, models.ProposalChange.id)
            )
        ).scalars()
    )
    objective_values: dict[str, Any] = {}
    kr_values: dict[int, dict[str, Any]] = defaultdict(dict)
    live = await _live_key_results(session, objective.id)
    for row in rows:
        if row.op == OP_OBJECTIVE_SET:
            objective_values[row.payload["field"]] = row.payload["value"]
        elif row.op == OP_REALIGN:
            parent_id = row.payload["parent_id"]
            await alignment.check_parent(session, viewer, objective.id, objective.cycle_id, parent_id, "id")
            objective_values["parent_id"] = parent_id
        elif row.op == OP_CANCEL:
            objective_values["status"] = machines.fire(
                machines.objective_machine, objective.status, machines.OBJECTIVE_CANCEL_BY_PROPOSAL, what="objective"
            )
        elif row.op == OP_KR_ADD:
            session.add(
                models.KeyResult(
                    organization_id=objective.organization_id,
                    objective_id=objective.id,
                    position=await next_position(session, objective.id),
                    version=1,
                    **row.payload["values"],
                )
            )
            await session.flush()
        elif row.key_result_id is not None and row.key_result_id in live:
            if row.op == OP_KR_REMOVE:
                kr_values[row.key_result_id]["removed"] = True
            elif row.op == OP_KR_SET:
                kr_values[row.key_result_id][row.payload["field"]] = row.payload["value"]
        else:
            raise DomainError(ErrorCode.CONFLICT, f"{row.path} no longer exists; the proposal cannot apply.", "id")
    for kr_id, values in kr_values.items():
        await guarded_update(session, live[kr_id], live[kr_id].version, values, "key result")
    changes = [change(row.path, row.before, row.after) for row in rows]
    if "status" in objective_values:
        await apply_status(
            session, viewer, objective, machines.OBJECTIVE_CANCEL_BY_PROPOSAL, objective_values, note=proposal.rationale
        )
    else:
        # The base version is the guard: had the objective moved since, this writes nothing.
        await guarded_update(session, objective, proposal.base_version, objective_values, "objective")
        await record_event(
            session,
            organization_id=objective.organization_id,
            actor=viewer,
            kind="objective.changed_by_proposal",
            subject_type="Objective",
            subject_id=objective.id,
            objective_id=objective.id,
            cycle_id=objective.cycle_id,
            version=objective.version,
            changes=changes,
            note=proposal.rationale,
        )
    if "tags" in objective_values:
        await sync_tags(session, objective)


async def _load_own(session: AsyncSession, viewer: Viewer, proposal_id: int) -> models.Proposal:
    proposal = await load_proposal(session, viewer, proposal_id)
    if proposal.author_id != viewer.user_id:
        raise Forbidden("Only the proposal's author may do that.")
    return proposal


async def revise_proposal(
    session: AsyncSession, viewer: Viewer, proposal_id: int, draft: ProposalDraft
) -> models.Proposal:
    """Back to OPEN with new content written against the objective's current version."""
    proposal = await _load_own(session, viewer, proposal_id)
    if draft.objective_id != proposal.objective_id:
        raise ValidationFailed("A revision stays on the same objective.", "input.objectiveId")
    objective = await load_objective(session, viewer, proposal.objective_id, lock=True)
    new_status = machines.fire(machines.proposal_machine, proposal.status, machines.PROPOSAL_REVISE, what="proposal")
    _ensure_agreed(objective)
    rationale = _clean_rationale(draft.rationale)
    if draft.base_version != objective.version:
        raise VersionConflict("objective", draft.base_version, objective.version)
    changes = await build_changes(session, viewer, objective, draft)
    before = {"status": proposal.status, "base_version": proposal.base_version, "rationale": proposal.rationale}
    await _move(
        session,
        proposal,
        {"status": new_status, "base_version": draft.base_version, "rationale": rationale, "cancel": draft.cancel},
    )
    await session.execute(delete(models.ProposalChange).where(models.ProposalChange.proposal_id == proposal.id))
    await _store_changes(session, proposal, changes)
    await _record(
        session,
        viewer,
        proposal,
        "proposal.revised",
        [
            change("status", before["status"], new_status),
            change("baseVersion", before["base_version"], draft.base_version),
            *([change("rationale", before["rationale"], rationale)] if before["rationale"] != rationale else []),
            *changes,
        ],
    )
    await _notify_reviewers(
        session, viewer, objective, proposal, f"A revised change to “{objective.title}” awaits your review."
    )
    return proposal


async def withdraw_proposal(session: AsyncSession, viewer: Viewer, proposal_id: int) -> models.Proposal:
    proposal = await _load_own(session, viewer, proposal_id)
    new_status = machines.fire(machines.proposal_machine, proposal.status, machines.PROPOSAL_WITHDRAW, what="proposal")
    before = proposal.status
    await _move(session, proposal, {"status": new_status})
    await _record(session, viewer, proposal, "proposal.withdrawn", [change("status", before, new_status)])
    return proposal


__all__ = [
    "KeyResultChangeDraft",
    "ProposalDraft",
    "ReviewOutcome",
    "create_proposal",
    "review_proposal",
    "revise_proposal",
    "withdraw_proposal",
]
