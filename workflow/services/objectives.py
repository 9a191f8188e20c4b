"""Drafting objectives and moving them through their state machine.

Loading goes through the viewer's visibility predicate, so an objective the viewer cannot see is
refused exactly like a missing one. Versioned rows are written with `guarded_update`: a single
`UPDATE ... WHERE version = :read`, so two writers holding the same version can never both win.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import machines, models, permissions
from workflow.computation.scoring import default_score, objective_score
from workflow.enums import (
    Commitment,
    CyclePhase,
    ObjectiveEvent,
    ObjectiveOrigin,
    ObjectiveStatus,
    Visibility,
)
from workflow.errors import DomainError, ErrorCode, Forbidden, NotFound, ValidationFailed, VersionConflict
from workflow.policies import objective_visible
from workflow.services import alignment
from workflow.services.events import change, notify, record_event
from workflow.viewer import Viewer

if TYPE_CHECKING:
    from workflow.services.key_results import KeyResultDraft

TITLE_MAX = 300
TAG_MAX = 100


class EditThroughProposal(DomainError):
    def __init__(self) -> None:
        super().__init__(
            ErrorCode.EDIT_THROUGH_PROPOSAL,
            "This objective is agreed and ACTIVE: change it through a proposal (createProposal).",
            "id",
        )


@dataclass
class ObjectiveDraft:
    cycle_id: int
    title: str
    description: str = ""
    motivation: str = ""
    owner_team_id: int | None = None
    owner_user_id: int | None = None
    commitment: Commitment = Commitment.ASPIRATIONAL
    visibility: Visibility = Visibility.ORGANIZATION
    tags: list[str] = field(default_factory=list)
    parent_id: int | None = None
    weight: float = 1.0


# Objective fields a patch (updateObjective or a proposal) may set, in the order reviewers read them.
OBJECTIVE_PATCH_FIELDS = (
    "title",
    "description",
    "motivation",
    "commitment",
    "visibility",
    "tags",
    "parent_id",
    "weight",
)

_CAMEL = {"parent_id": "parentId"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# ---- loading -----------------------------------------------------------------------------------


async def load_objective(
    session: AsyncSession, viewer: Viewer, objective_id: int, *, lock: bool = False, field_name: str = "id"
) -> models.Objective:
    """The objective if the viewer can see it; invisible and missing both read NOT_FOUND."""
    stmt = (
        select(models.Objective)
        .where(models.Objective.id == objective_id, objective_visible(viewer))
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=models.Objective)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("objective", field_name)
    return found


async def load_cycle(session: AsyncSession, viewer: Viewer, cycle_id: int, field_name: str = "id") -> models.Cycle:
    found = (
        await session.execute(
            select(models.Cycle)
            .where(models.Cycle.id == cycle_id, models.Cycle.organization_id == viewer.organization_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("cycle", field_name)
    return found


async def parent_owner_team_id(session: AsyncSession, objective: models.Objective) -> int | None:
    """The parent's owning team decides who may approve; read without the viewer's filter on purpose."""
    if objective.parent_id is None:
        return None
    return (
        await session.execute(
            select(models.Objective.owner_team_id).where(
                models.Objective.id == objective.parent_id,
                models.Objective.organization_id == objective.organization_id,
            )
        )
    ).scalar_one_or_none()


async def guarded_update(
    session: AsyncSession, row: Any, read_version: int, values: Mapping[str, Any], what: str
) -> None:
    """Write `values` only if the row is still at `read_version`, bump the version, reload the row."""
    table = type(row)
    result = await session.execute(
        update(table)
        .where(table.id == row.id, table.version == read_version)
        .values(**values, version=table.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        actual = (await session.execute(select(table.version).where(table.id == row.id))).scalar_one()
        raise VersionConflict(what, read_version, actual)
    await session.refresh(row)


# ---- validation --------------------------------------------------------------------------------


def clean_title(title: str, field_name: str = "title") -> str:
    title = title.strip()
    if not title:
        raise ValidationFailed("A title is required.", field_name)
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"Keep the title under {TITLE_MAX} characters.", field_name)
    return title


def clean_weight(weight: float, field_name: str = "weight") -> float:
    if not math.isfinite(weight) or weight <= 0:
        raise ValidationFailed("The weight must be a positive number.", field_name)
    return weight


def clean_tags(tags: Sequence[str], field_name: str = "tags") -> list[str]:
    cleaned = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if any(len(t) > TAG_MAX for t in cleaned):
        raise ValidationFailed(f"Keep each tag under {TAG_MAX} characters.", field_name)
    return cleaned


async def check_team(session: AsyncSession, viewer: Viewer, team_id: int, field_name: str) -> None:
    found = (
        await session.execute(
            select(models.Team.id).where(
                models.Team.id == team_id, models.Team.organization_id == viewer.organization_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("team", field_name)


async def check_member(session: AsyncSession, viewer: Viewer, user_id: int, field_name: str) -> None:
    found = (
        await session.execute(
            select(models.Membership.id).where(
                models.Membership.user_id == user_id, models.Membership.organization_id == viewer.organization_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("user", field_name)


async def clean_objective_patch(
    session: AsyncSession, viewer: Viewer, objective: models.Objective, patch: Mapping[str, Any], prefix: str = ""
) -> dict[str, Any]:
    """Validated values of a patch, keeping only the fields that actually change."""
    values: dict[str, Any] = {}
    for name, value in patch.items():
        if name not in OBJECTIVE_PATCH_FIELDS or value is None:
            continue
        where = prefix + _CAMEL.get(name, name)
        if name == "title":
            value = clean_title(value, where)
        elif name == "weight":
            value = clean_weight(value, where)
        elif name == "tags":
            value = clean_tags(value, where)
        elif name in ("description", "motivation"):
            value = value.strip()
        elif name == "parent_id":
            await alignment.check_parent(session, viewer, objective.id, objective.cycle_id, value, where)
        if getattr(objective, name) != value:
            values[name] = value
    return values


async def sync_tags(session: AsyncSession, objective: models.Objective) -> None:
    """ObjectiveTag rows mirror `tags`, so the tag filter stays an indexed lookup."""
    await session.execute(delete(models.ObjectiveTag).where(models.ObjectiveTag.objective_id == objective.id))
    session.add_all(
        models.ObjectiveTag(organization_id=objective.organization_id, objective_id=objective.id, tag=tag)
        for tag in objective.tags
    )
    await session.flush()


# ---- use cases ---------------------------------------------------------------------------------


async def create_objective(
    session: AsyncSession,
    viewer: Viewer,
    draft: ObjectiveDraft,
    key_results: Sequence[KeyResultDraft] = (),
) -> models.Objective:
    """A DRAFT objective with its key results; an exec's draft is the exec side's opening offer."""
    from workflow.services.key_results import insert_key_result

    cycle = await load_cycle(session, viewer, draft.cycle_id, "cycleId")
    if cycle.phase not in machines.NEGOTIATION_PHASES:
        raise ValidationFailed(
            f"The cycle is {cycle.phase}: new objectives are drafted while it is PLANNING or NEGOTIATING.", "cycleId"
        )
    if draft.owner_team_id is None and draft.owner_user_id is None:
        raise ValidationFailed("Give the objective an owner team or an owner user.", "ownerTeamId")
    if draft.owner_team_id is not None:
        await check_team(session, viewer, draft.owner_team_id, "ownerTeamId")
    if draft.owner_user_id is not None:
        await check_member(session, viewer, draft.owner_user_id, "ownerUserId")
    if not permissions.may_create_objective(viewer, draft.owner_team_id, draft.owner_user_id):
        raise Forbidden("Only execs draft objectives for other teams; leads draft for their own.", "ownerTeamId")
    objective = models.Objective(
        organization_id=viewer.organization_id,
        cycle_id=cycle.id,
        title=clean_title(draft.title),
        description=draft.description.strip(),
        motivation=draft.motivation.strip(),
        owner_team_id=draft.owner_team_id,
        owner_user_id=draft.owner_user_id,
        author_id=viewer.user_id,
        origin=ObjectiveOrigin.EXEC if viewer.is_exec else ObjectiveOrigin.TEAM,
        commitment=draft.commitment,
        visibility=draft.visibility,
        tags=clean_tags(draft.tags),
        status=ObjectiveStatus.DRAFT,
        weight=clean_weight(draft.weight),
        version=1,
    )
    session.add(objective)
    await session.flush()
    if draft.parent_id is not None:
        await alignment.check_parent(session, viewer, objective.id, cycle.id, draft.parent_id, "parentId")
        objective.parent_id = draft.parent_id
    await sync_tags(session, objective)
    for position, kr_draft in enumerate(key_results):
        await insert_key_result(session, viewer, objective, kr_draft, position, f"keyResults[{position}].")
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="objective.created",
        subject_type="Objective",
        subject_id=objective.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=objective.version,
        changes=[
            change("title", None, objective.title),
            change("status", None, objective.status),
            change("origin", None, objective.origin),
            change("keyResults", None, len(key_results)),
        ],
    )
    return objective


def ensure_editable_in_place(objective: models.Objective) -> None:
    if objective.status == ObjectiveStatus.DRAFT:
        return
    if objective.status == ObjectiveStatus.ACTIVE:
        raise EditThroughProposal()
    raise DomainError(
        ErrorCode.TRANSITION_NOT_ALLOWED,
        f"Only DRAFT objectives are edited in place; this one is {objective.status}.",
        "id",
    )


async def update_objective(
    session: AsyncSession, viewer: Viewer, objective_id: int, version: int, patch: Mapping[str, Any]
) -> models.Objective:
    objective = await load_objective(session, viewer, objective_id)
    ensure_editable_in_place(objective)
    if not permissions.may_edit_draft(viewer, objective):
        raise Forbidden("Only the author, the owners, the owning team's leads and execs edit this draft.")
    if objective.version != version:
        raise VersionConflict("objective", version, objective.version)
    values = await clean_objective_patch(session, viewer, objective, patch)
    if not values:
        return objective
    before = {name: getattr(objective, name) for name in values}
    await guarded_update(session, objective, version, values, "objective")
    if "tags" in values:
        await sync_tags(session, objective)
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="objective.updated",
        subject_type="Objective",
        subject_id=objective.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=objective.version,
        changes=[change(camel(name), before[name], value) for name, value in values.items()],
    )
    return objective


EVENT_KINDS = {
    ObjectiveEvent.SUBMIT: "objective.submitted",
    ObjectiveEvent.APPROVE: "objective.approved",
    ObjectiveEvent.REQUEST_CHANGES: "objective.changes_requested",
    ObjectiveEvent.CANCEL: "objective.cancelled",
    ObjectiveEvent.COMPLETE: "objective.completed",
    machines.OBJECTIVE_ACTIVATE: "objective.activated",
    machines.OBJECTIVE_CANCEL_BY_PROPOSAL: "objective.cancelled",
}


async def transition_objective(
    session: AsyncSession, viewer: Viewer, objective_id: int, event: ObjectiveEvent, comment: str | None = None
) -> models.Objective:
    objective = await load_objective(session, viewer, objective_id, lock=True)
    cycle = await load_cycle(session, viewer, objective.cycle_id)
    if not machines.can_fire(machines.objective_machine, objective.status, event):
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED, f"{event} is not possible for an objective that is {objective.status}."
        )
    parent_team = await parent_owner_team_id(session, objective)
    submitter_role = await permissions.role_of(session, objective.organization_id, objective.submitted_by_id)
    if not permissions.may_fire_objective_event(viewer, objective, event, parent_team, submitter_role):
        if event in (ObjectiveEvent.APPROVE, ObjectiveEvent.REQUEST_CHANGES):
            raise Forbidden(
                "Approval needs the other party: a team's submission goes to an exec or the parent objective's "
                "owner, an exec's to the owning team's lead, and nobody decides on their own submission."
            )
        raise Forbidden(f"You may not {event.lower().replace('_', ' ')} this objective.")
    if event == ObjectiveEvent.SUBMIT:
        await _check_submittable(session, objective, cycle)
    new_status = machines.fire(
        machines.objective_machine,
        objective.status,
        event,
        what="objective",
        phase=cycle.phase,
        comment=comment,
    )
    values: dict[str, Any] = {"status": new_status}
    if event == ObjectiveEvent.SUBMIT:
        values["submitted_by_id"] = viewer.user_id
    if event == ObjectiveEvent.COMPLETE:
        values["score"] = await _score_all(session, viewer, objective)
    await apply_status(session, viewer, objective, event, values, note=(comment or "").strip())
    if comment and comment.strip():
        session.add(
            models.Comment(
                organization_id=objective.organization_id,
                objective_id=objective.id,
                author_id=viewer.user_id,
                body=comment.strip(),
            )
        )
        await session.flush()
    await _notify_after(session, viewer, objective, event, parent_team)
    return objective


async def apply_status(
    session: AsyncSession,
    viewer: Viewer | None,
    objective: models.Objective,
    event: str,
    values: Mapping[str, Any],
    note: str = "",
) -> None:
    """Write a status move (and what goes with it) and record it as one event."""
    before = {name: getattr(objective, name) for name in values}
    await guarded_update(session, objective, objective.version, values, "objective")
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind=EVENT_KINDS.get(event, "objective.transitioned"),
        subject_type="Objective",
        subject_id=objective.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=objective.version,
        changes=[
            change(camel(name), before[name], value) for name, value in values.items() if name != "submitted_by_id"
        ],
        note=note,
    )


async def _check_submittable(session: AsyncSession, objective: models.Objective, cycle: models.Cycle) -> None:
    if objective.origin == ObjectiveOrigin.EXEC and cycle.phase == CyclePhase.PLANNING:
        # The accepting side cannot see an exec draft until negotiation opens.
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            "Exec drafts go to the teams once the cycle opens negotiation.",
            "event",
        )
    live = (
        await session.execute(
            select(models.KeyResult.id).where(
                models.KeyResult.objective_id == objective.id, models.KeyResult.removed.is_(False)
            )
        )
    ).first()
    if live is None:
        raise ValidationFailed("Add at least one key result before submitting.", "keyResults")


async def _score_all(session: AsyncSession, viewer: Viewer, objective: models.Objective) -> float | None:
    """Completing keeps what owners scored and fills the rest with their default score (DESIGN §3)."""
    krs = list(
        (
            await session.execute(
                select(models.KeyResult).where(
                    models.KeyResult.objective_id == objective.id, models.KeyResult.removed.is_(False)
                )
            )
        ).scalars()
    )
    for kr in krs:
        if kr.score is None:
            score = default_score(kr)
            await guarded_update(session, kr, kr.version, {"score": score}, "key result")
    return objective_score(krs)


async def _notify_after(
    session: AsyncSession,
    viewer: Viewer,
    objective: models.Objective,
    event: ObjectiveEvent,
    parent_team: int | None,
) -> None:
    if event == ObjectiveEvent.SUBMIT:
        recipients = await permissions.other_party_ids(
            session,
            organization_id=objective.organization_id,
            acting_side=permissions.side_of(viewer.role),
            owner_team_id=objective.owner_team_id,
            owner_user_id=objective.owner_user_id,
            parent_owner_team_id=parent_team,
        )
        kind, message = "review_requested", f"{viewer.name or 'Someone'} submitted “{objective.title}” for review."
    elif event in (ObjectiveEvent.REQUEST_CHANGES, ObjectiveEvent.APPROVE) and objective.submitted_by_id:
        recipients = [objective.submitted_by_id]
        if event == ObjectiveEvent.APPROVE:
            kind, message = "objective_approved", f"“{objective.title}” was approved."
        else:
            kind, message = "changes_requested", f"Changes were requested on “{objective.title}”."
    else:
        return
    await notify(
        session,
        organization_id=objective.organization_id,
        user_ids=recipients,
        kind=kind,
        message=message,
        subject_type="Objective",
        subject_id=objective.id,
        objective_id=objective.id,
        skip_user_id=viewer.user_id,
    )
