"""Who is calling. Until OIDC sign-in lands, a development-only header names the caller."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import HTTPConnection

from server.settings import Settings
from workflow import models

DEV_USER_HEADER = "x-okr-dev-user"


@dataclass(frozen=True)
class Principal:
    user_id: int
    organization_id: int
    scopes: frozenset[str] = frozenset({"read", "write"})


async def authenticate(conn: HTTPConnection, settings: Settings, session_factory: object) -> Principal | None:
    """The caller of this request, or None. The header is honoured only with OKR_ENV=development."""
    email = conn.headers.get(DEV_USER_HEADER)
    if not email or not settings.development:
        return None
    from sqlalchemy.ext.asyncio import AsyncSession

    assert callable(session_factory)
    session: AsyncSession = session_factory()
    async with session:
        row = (
            await session.execute(
                select(models.Membership.user_id, models.Membership.organization_id)
                .join(models.User, models.User.id == models.Membership.user_id)
                .where(models.User.email == email.strip().lower())
                .order_by(models.Membership.id)
                .limit(1)
            )
        ).first()
    return None if row is None else Principal(user_id=row[0], organization_id=row[1])
