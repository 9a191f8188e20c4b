"""Who is asking: the identity and relations every policy decision is made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CTE, ColumnElement, Integer, Select, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.enums import Role, TeamRole
from workflow.models import Membership, Team, TeamMember, User

_USERS = User.__table__
_MEMBERSHIPS = Membership.__table__
_SEATS = TeamMember.__table__
_TEAMS = Team.__table__


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


def teams_below(roots: Select[Any], name: str) -> CTE:
    """The teams `roots` selects (one column, `id`) and every team beneath them, walked in SQL:
    a recursive CTE named `name`, with one column, `id`."""
    below = roots.cte(name, recursive=True)
    return below.union(select(_TEAMS.c.id).join(below, _TEAMS.c.parent_id == below.c.id))


def viewer_statement(holder: CTE, *leading: ColumnElement[Any]) -> Select[tuple[Any, ...]]:
    """`leading` columns, then what `viewer_from_rows` reads: `holder` (a CTE of at most one row
    with user_id and organization_id) joined to the user, their membership role
    and one row per team reachable from their own teams (a recursive CTE down the tree), with their
    seat in that team if they hold one. The walk starts at the viewer's teams, never the whole team
    list, so its cost follows where the viewer sits, not how big the company is."""
    own = select(_SEATS.c.team_id.label("id")).join(
        holder, (_SEATS.c.user_id == holder.c.user_id) & (_SEATS.c.organization_id == holder.c.organization_id)
    )
    below = teams_below(own, "reachable")
    seat = _SEATS.alias("seat")
    return (
        select(
            *leading,
            _USERS.c.issuer,
            _USERS.c.subject,
            _USERS.c.name,
            _USERS.c.email,
            _MEMBERSHIPS.c.role,
            below.c.id,
            seat.c.role.label("team_role"),
        )
        .select_from(holder)
        .join(_USERS, _USERS.c.id == holder.c.user_id)
        .join(
            _MEMBERSHIPS,
            (_MEMBERSHIPS.c.user_id == holder.c.user_id) & (_MEMBERSHIPS.c.organization_id == holder.c.organization_id),
        )
        .outerjoin(below, true())
        .outerjoin(seat, (seat.c.team_id == below.c.id) & (seat.c.user_id == holder.c.user_id))
    )


def viewer_from_rows(
    rows: Sequence[Sequence[Any]], user_id: int, organization_id: int, scopes: frozenset[str] | None = None
) -> Viewer | None:
    """The viewer in the rows of a `viewer_statement` (its columns are the last seven of each row)."""
    if not rows:
        return None
    issuer, subject, name, email, role = rows[0][-7:-2]
    reachable = {row[-2] for row in rows if row[-2] is not None}
    member_of = {row[-2] for row in rows if row[-1] is not None}
    leads = {row[-2] for row in rows if row[-1] == TeamRole.LEAD}
    return Viewer(
        user_id=user_id,
        organization_id=organization_id,
        role=Role(role),
        issuer=issuer,
        subject=subject,
        name=name,
        email=email,
        team_ids=frozenset(member_of),
        lead_team_ids=frozenset(leads),
        reachable_team_ids=frozenset(reachable),
        scopes=scopes if scopes is not None else frozenset({"read", "write"}),
    )


# Built once: constructing a select with a recursive CTE costs more than executing its cached
# compilation, and every authenticated request loads a viewer.
_MEMBER = select(
    bindparam("user_id", type_=Integer).label("user_id"),
    bindparam("organization_id", type_=Integer).label("organization_id"),
).cte("member")
_LOAD_VIEWER = viewer_statement(_MEMBER)


async def load_viewer(
    session: AsyncSession, user_id: int, organization_id: int, scopes: frozenset[str] | None = None
) -> Viewer | None:
    """Build a viewer with one statement: the membership row, with the viewer's place in the team tree."""
    connection = await session.connection()
    rows = (await connection.execute(_LOAD_VIEWER, {"user_id": user_id, "organization_id": organization_id})).all()
    return viewer_from_rows(rows, user_id, organization_id, scopes)
