"""The team tree and who is in which team: administered by organization admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import TeamRole
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.services.events import record_event
from workflow.viewer import Viewer


def require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise Forbidden("Only organization admins manage teams and roles.")


async def _team(session: AsyncSession, viewer: Viewer, team_id: int, field: str) -> models.Team:
    team = await session.get(models.Team, team_id)
    # A team of another organization reads exactly like a missing one.
    if team is None or team.organization_id != viewer.organization_id:
        raise NotFound("team", field)
    return team


async def organization_member(session: AsyncSession, viewer: Viewer, user_id: int, field: str) -> models.Membership:
    membership = (
        await session.execute(
            select(models.Membership).where(
                models.Membership.user_id == user_id, models.Membership.organization_id == viewer.organization_id
            )
        )
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound("user", field)
    return membership


async def create_team(session: AsyncSession, viewer: Viewer, *, name: str, parent_id: int | None) -> models.Team:
    require_admin(viewer)
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A team needs a name of 1 to 200 characters.", "name")
    if parent_id is not None:
        await _team(session, viewer, parent_id, "parentId")
    team = models.Team(organization_id=viewer.organization_id, name=name, parent_id=parent_id)
    session.add(team)
    await session.flush()
    await record_event(
        session,
        organization_id=viewer.organization_id,
        actor=viewer,
        kind="team.created",
        subject_type="Team",
        subject_id=team.id,
        changes=[{"path": "name", "before": None, "after": name}],
    )
    return team


async def set_team_member(
    session: AsyncSession, viewer: Viewer, *, team_id: int, user_id: int, role: TeamRole | None
) -> models.Team:
    """Add, re-role or (with `role` None) remove a member of a team."""
    require_admin(viewer)
    team = await _team(session, viewer, team_id, "teamId")
    await organization_member(session, viewer, user_id, "userId")
    current = (
        await session.execute(
            select(models.TeamMember).where(models.TeamMember.team_id == team.id, models.TeamMember.user_id == user_id)
        )
    ).scalar_one_or_none()
    before = None if current is None else str(current.role)
    if role is None:
        if current is not None:
            await session.delete(current)
    elif current is None:
        session.add(
            models.TeamMember(organization_id=team.organization_id, team_id=team.id, user_id=user_id, role=role)
        )
    else:
        current.role = role
    after = None if role is None else str(role)
    await session.flush()
    if before != after:
        await record_event(
            session,
            organization_id=viewer.organization_id,
            actor=viewer,
            kind="team.member_set",
            subject_type="Team",
            subject_id=team.id,
            changes=[{"path": f"members.{user_id}", "before": before, "after": after}],
        )
    return team
