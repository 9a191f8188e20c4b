"""Personal access tokens for API clients: created (the secret shown once) and revoked."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.ids import from_global_id, to_global_id
from schema.mutations.runner import run_mutation
from schema.payloads import AccessTokenPayload
from workflow.services import access_tokens
from workflow.viewer import Viewer

Ctx = Info[Context, None]
TOKEN_TYPE = "AccessToken"


@strawberry.type
class AccessTokenMutations:
    @strawberry.mutation(
        description="A token for `Authorization: Bearer`, scoped `read` and/or `write`, expiring after "
        "`expiresInDays` (default 90, at most 366). `token` is shown only in this answer; only its hash is kept."
    )
    async def create_access_token(
        self, info: Ctx, name: str, scopes: list[str], expires_in_days: int | None = None
    ) -> AccessTokenPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> access_tokens.IssuedToken:
            return await access_tokens.create_access_token(
                session, viewer, name=name, scopes=scopes, expires_in_days=expires_in_days
            )

        issued, errors = await run_mutation(info, action)
        if issued is None:
            return AccessTokenPayload(user_errors=errors)
        return AccessTokenPayload(
            token=issued.secret, token_id=strawberry.ID(to_global_id(TOKEN_TYPE, issued.token.id))
        )

    @strawberry.mutation(
        description="Revoke one of your tokens (admins: anyone's); false when there is no such live token."
    )
    async def revoke_access_token(self, info: Ctx, id: strawberry.ID) -> bool:
        parsed = from_global_id(id)
        if parsed is None or parsed[0] != TOKEN_TYPE:
            return False

        async def action(session: AsyncSession, viewer: Viewer) -> bool:
            return await access_tokens.revoke_access_token(session, viewer, parsed[1])

        revoked, _ = await run_mutation(info, action)
        return bool(revoked)
