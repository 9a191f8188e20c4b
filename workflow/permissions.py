"""Who may fire what (DESIGN §2, §4): role and relation rules, as plain functions of the viewer.

Visibility is a separate, earlier gate (`workflow.policies`): services load rows through it, so
everything here may assume the viewer can see the object. These rules answer the next question,
whether this viewer may act on it, and the same functions decide `availableTransitions`.

Negotiation is two-sided: whoever submits (or proposes) stands on one side, and approval must come
from the other. An exec's submission is accepted by the owning team's lead; a team's submission is
approved by an exec or by the lead of the team owning the parent objective. Nobody approves their
own submission.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import CycleEvent, ObjectiveEvent, ObjectiveOrigin, Role, TeamRole
from workflow.viewer import Viewer

EXEC_ROLES = (Role.ADMIN, Role.EXEC)


class Side(StrEnum):
    EXEC = "EXEC"
    TEAM = "TEAM"


def may_create_cycle(viewer: Viewer) -> bool:
    return viewer.can_write and viewer.is_exec


def may_fire_cycle_event(viewer: Viewer, event: CycleEvent) -> bool:
    if not viewer.can_write:
        return False
    if event == CycleEvent.REOPEN:
        return viewer.is_admin
    return viewer.is_exec


def may_edit_draft(viewer: Viewer, objective: models.Objective) -> bool:
    """The people shaping a draft: its author, its owners, the owning team's leads, and execs."""
    return viewer.can_write and (
        viewer.is_exec
        or objective.author_id == viewer.user_id
        or objective.owner_user_id == viewer.user_id
        or viewer.leads(objective.owner_team_id)
    )


def may_create_objective(viewer: Viewer, owner_team_id: int | None, owner_user_id: int | None) -> bool:
    """Execs draft for any team; leads for their own teams; anyone for themselves."""
    if not viewer.can_write:
        return False
    if viewer.is_exec:
        return True
    if owner_team_id is not None:
        return viewer.leads(owner_team_id)
    return owner_user_id == viewer.user_id


def side_of(role: Role | None) -> Side:
    return Side.EXEC if role in EXEC_ROLES else Side.TEAM


def submitting_side(objective: models.Objective, submitter_role: Role | None) -> Side:
    """The side that submitted; without a known submitter the drafting side stands in."""
    if submitter_role is not None:
        return side_of(submitter_role)
    return Side.EXEC if objective.origin == ObjectiveOrigin.EXEC else Side.TEAM


def is_other_party(
    viewer: Viewer,
    *,
    acting_user_id: int | None,
    acting_side: Side,
    owner_team_id: int | None,
    owner_user_id: int | None,
    parent_owner_team_id: int | None,
) -> bool:
    """Whether the viewer stands opposite the person who submitted or proposed."""
    if not viewer.can_write or viewer.user_id == acting_user_id:
        return False
    if acting_side == Side.EXEC:
        if owner_team_id is not None:
            return viewer.leads(owner_team_id)
        return owner_user_id == viewer.user_id
    return viewer.is_exec or viewer.leads(parent_owner_team_id)


def may_decide_objective(
    viewer: Viewer,
    objective: models.Objective,
    submitter_role: Role | None,
    parent_owner_team_id: int | None,
) -> bool:
    return is_other_party(
        viewer,
        acting_user_id=objective.submitted_by_id,
        acting_side=submitting_side(objective, submitter_role),
        owner_team_id=objective.owner_team_id,
        owner_user_id=objective.owner_user_id,
        parent_owner_team_id=parent_owner_team_id,
    )


def may_complete(viewer: Viewer, objective: models.Objective) -> bool:
    return viewer.can_write and (
        viewer.is_exec or viewer.leads(objective.owner_team_id) or objective.owner_user_id == viewer.user_id
    )


def may_fire_objective_event(
    viewer: Viewer,
    objective: models.Objective,
    event: ObjectiveEvent,
    parent_owner_team_id: int | None = None,
    submitter_role: Role | None = None,
) -> bool:
    match event:
        case ObjectiveEvent.SUBMIT | ObjectiveEvent.CANCEL:
            return may_edit_draft(viewer, objective)
        case ObjectiveEvent.APPROVE | ObjectiveEvent.REQUEST_CHANGES:
            return may_decide_objective(viewer, objective, submitter_role, parent_owner_team_id)
        case ObjectiveEvent.COMPLETE:
            return may_complete(viewer, objective)
    return False


def may_propose(viewer: Viewer, objective: models.Objective) -> bool:
    """Like a pull request against the team page: the team, the owner and execs may open one."""
    return viewer.can_write and (
        viewer.is_exec
        or objective.owner_user_id == viewer.user_id
        or (objective.owner_team_id is not None and objective.owner_team_id in viewer.team_ids)
    )


def may_review_proposal(
    viewer: Viewer,
    proposal: models.Proposal,
    objective: models.Objective,
    author_role: Role | None,
    parent_owner_team_id: int | None,
) -> bool:
    return is_other_party(
        viewer,
        acting_user_id=proposal.author_id,
        acting_side=side_of(author_role),
        owner_team_id=objective.owner_team_id,
        owner_user_id=objective.owner_user_id,
        parent_owner_team_id=parent_owner_team_id,
    )


def may_check_in(viewer: Viewer, objective: models.Objective, kr: models.KeyResult) -> bool:
    """The people doing the work report on it: the owning team, the owners, execs."""
    return viewer.can_write and (
        viewer.is_exec
        or kr.owner_id == viewer.user_id
        or objective.owner_user_id == viewer.user_id
        or (objective.owner_team_id is not None and objective.owner_team_id in viewer.team_ids)
    )


def may_score(viewer: Viewer, objective: models.Objective, kr: models.KeyResult) -> bool:
    """The key result's owner scores it; without one, the owning team's leads (DESIGN §3). Execs too."""
    if not viewer.can_write:
        return False
    if viewer.is_exec:
        return True
    if kr.owner_id is not None:
        return kr.owner_id == viewer.user_id
    return viewer.leads(objective.owner_team_id) or objective.owner_user_id == viewer.user_id


def may_publish_retrospective(viewer: Viewer, team_id: int) -> bool:
    return viewer.can_write and (viewer.is_exec or viewer.leads(team_id))


async def team_lead_ids(session: AsyncSession, team_id: int | None) -> list[int]:
    if team_id is None:
        return []
    rows = await session.execute(
        select(models.TeamMember.user_id)
        .where(models.TeamMember.team_id == team_id, models.TeamMember.role == TeamRole.LEAD)
        .order_by(models.TeamMember.user_id)
    )
    return list(rows.scalars())


async def exec_ids(session: AsyncSession, organization_id: int) -> list[int]:
    rows = await session.execute(
        select(models.Membership.user_id)
        .where(models.Membership.organization_id == organization_id, models.Membership.role.in_(EXEC_ROLES))
        .order_by(models.Membership.user_id)
    )
    return list(rows.scalars())


async def role_of(session: AsyncSession, organization_id: int, user_id: int | None) -> Role | None:
    if user_id is None:
        return None
    role = (
        await session.execute(
            select(models.Membership.role).where(
                models.Membership.organization_id == organization_id, models.Membership.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    return None if role is None else Role(role)


async def other_party_ids(
    session: AsyncSession,
    *,
    organization_id: int,
    acting_side: Side,
    owner_team_id: int | None,
    owner_user_id: int | None,
    parent_owner_team_id: int | None,
) -> list[int]:
    """The people who must act on a submission or proposal: they get the notification."""
    if acting_side == Side.EXEC:
        leads = await team_lead_ids(session, owner_team_id)
        return leads if leads or owner_user_id is None else [owner_user_id]
    return [*await exec_ids(session, organization_id), *await team_lead_ids(session, parent_owner_team_id)]
