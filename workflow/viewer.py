"""Who is asking: the identity and relations every policy decision is made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
    """Build a viewer with one statement: the membership row, with the viewer's place in the team tree.

    The teams are walked from the viewer's own teams down their subtrees (a recursive CTE), never
    the organization's whole team list, so a request's cost follows where the viewer sits, not how
    big the company is. One row per reachable team (one row with no team for someone in none).
    """
    own = select(TeamMember.team_id).where(TeamMember.user_id == user_id, TeamMember.organization_id == organization_id)
    below = own.cte("reachable", recursive=True)
    below = below.union(select(Team.id).join(below, Team.parent_id == below.c.team_id))
    seat = aliased(TeamMember)
    rows = (
        await session.execute(
            select(User, Membership.role, below.c.team_id, seat.role)
            .join(Membership, Membership.user_id == User.id)
            .outerjoin(below, true())
            .outerjoin(seat, (seat.team_id == below.c.team_id) & (seat.user_id == User.id))
            .where(User.id == user_id, Membership.organization_id == organization_id)
        )
    ).all()
    if not rows:
        return None
    user, role = rows[0][0], rows[0][1]
    reachable = {team_id for _, _, team_id, _ in rows if team_id is not None}
    member_of = {team_id for _, _, team_id, team_role in rows if team_role is not None}
    leads = {team_id for _, _, team_id, team_role in rows if team_role == TeamRole.LEAD}
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
