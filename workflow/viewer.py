"""Who is asking: the identity and relations every policy decision is made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.enums import Role, TeamRole
from workflow.models import Membership, Team, TeamMember, User


@dataclass(frozen=True)
class Viewer:
    user_id: int
    organization_id: int
    role: Role
    issuer: str = ""
    subject: str = ""
    name: str = ""
    email: str = ""
    team_ids: frozenset[int] = field(default_factory=frozenset)
    lead_team_ids: frozenset[int] = field(default_factory=frozenset)
    # Teams whose TEAM-visibility objectives this viewer sees: its own teams and every team below them.
    reachable_team_ids: frozenset[int] = field(default_factory=frozenset)
    scopes: frozenset[str] = frozenset({"read", "write"})

    @property
    def is_exec(self) -> bool:
        """Admins and execs see and steer the whole organization (DESIGN §4)."""
        return self.role in (Role.ADMIN, Role.EXEC)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_write(self) -> bool:
        return "write" in self.scopes and self.role != Role.VIEWER

    def leads(self, team_id: int | None) -> bool:
        return team_id is not None and team_id in self.lead_team_ids


def descendants(parents: dict[int, int | None], roots: set[int]) -> set[int]:
    """Every team at or below `roots` in the tree given as child -> parent."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        team = stack.pop()
        if team in seen:
            continue
        seen.add(team)
        stack.extend(children.get(team, ()))
    return seen


async def load_viewer(
    session: AsyncSession, user_id: int, organization_id: int, scopes: frozenset[str] | None = None
) -> Viewer | None:
    """Build a viewer with two statements: the membership row and the viewer's place in the team tree."""
    row = (
        await session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id == user_id, Membership.organization_id == organization_id)
        )
    ).first()
    if row is None:
        return None
    user, role = row
    # From the viewer's own teams down their subtrees (a recursive CTE), never the organization's
    # whole team list: a request's cost follows where the viewer sits, not how big the company is.
    own = select(TeamMember.team_id).where(TeamMember.user_id == user_id, TeamMember.organization_id == organization_id)
    below = own.cte("reachable", recursive=True)
    below = below.union(select(Team.id).join(below, Team.parent_id == below.c.team_id))
    teams = (
        await session.execute(
            select(below.c.team_id, TeamMember.role).outerjoin(
                TeamMember, (TeamMember.team_id == below.c.team_id) & (TeamMember.user_id == user_id)
            )
        )
    ).all()
    reachable = {team_id for team_id, _ in teams}
    member_of = {team_id for team_id, team_role in teams if team_role is not None}
    leads = {team_id for team_id, team_role in teams if team_role == TeamRole.LEAD}
    return Viewer(
        user_id=user.id,
        organization_id=organization_id,
        role=Role(role),
        issuer=user.issuer,
        subject=user.subject,
        name=user.name,
        email=user.email,
        team_ids=frozenset(member_of),
        lead_team_ids=frozenset(leads),
        reachable_team_ids=frozenset(reachable),
        scopes=scopes if scopes is not None else frozenset({"read", "write"}),
    )
