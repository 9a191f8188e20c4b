"""Team tree and roles: organization admins only."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.enums import Role, TeamRole
from schema.ids import decode_id, decode_optional
from schema.mutations.runner import run_mutation
from schema.payloads import TeamPayload, UserPayload
from workflow import models
from workflow.services import teams, users
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class TeamMutations:
    @strawberry.mutation(description="Admins: a new team, at the root or under `parentId`.")
    async def create_team(self, info: Ctx, name: str, parent_id: strawberry.ID | None = None) -> TeamPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Team:
            parent = decode_optional(parent_id, "Team", "parentId")
            return await teams.create_team(session, viewer, name=name, parent_id=parent)

        team, errors = await run_mutation(info, action)
        return TeamPayload(team=team, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Admins: add a person to a team, change their team role, or (role null) remove them."
    )
    async def set_team_member(
        self, info: Ctx, team_id: strawberry.ID, user_id: strawberry.ID, role: TeamRole | None = None
    ) -> TeamPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.Team:
            return await teams.set_team_member(
                session,
                viewer,
                team_id=decode_id(team_id, "Team", "teamId"),
                user_id=decode_id(user_id, "User", "userId"),
                role=role,
            )

        team, errors = await run_mutation(info, action)
        return TeamPayload(team=team, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins: a person's organization role. The last admin cannot step down.")
    async def set_user_role(self, info: Ctx, user_id: strawberry.ID, role: Role) -> UserPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> models.User:
            return await users.set_user_role(session, viewer, user_id=decode_id(user_id, "User", "userId"), role=role)

        user, errors = await run_mutation(info, action)
        return UserPayload(user=user, user_errors=errors)  # type: ignore[arg-type]
