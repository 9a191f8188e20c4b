"""Personal access tokens and browser sessions: server-issued secrets, stored only as their SHA-256.

A browser session is an access token too (scope `session`), so signing out revokes it on the
server: a copied cookie stops working the moment its owner signs out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import Role
from workflow.errors import Forbidden, ValidationFailed
from workflow.viewer import Viewer, viewer_from_rows, viewer_statement

READ = "read"
WRITE = "write"
SESSION = "session"
API_SCOPES = frozenset({READ, WRITE})
TOKEN_PREFIX = "okr_pat_"
SESSION_PREFIX = "okr_ses_"
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 366
# Touching last_used_at on every request would turn each read into a write; once an hour is enough.
LAST_USED_RESOLUTION = dt.timedelta(hours=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: models.AccessToken
    secret: str


@dataclass(frozen=True)
class TokenOwner:
    """Whom a presented secret speaks for."""

    token_id: int
    user_id: int
    organization_id: int
    scopes: frozenset[str]
    viewer: Viewer


def normalize_scopes(scopes: list[str]) -> list[str]:
    wanted = {s.strip().lower() for s in scopes}
    unknown = wanted - API_SCOPES
    if unknown:
        raise ValidationFailed(f"Unknown scope {sorted(unknown)[0]!r}; use 'read' and/or 'write'.", "scopes")
    if not wanted:
        raise ValidationFailed("A token needs at least one scope: 'read' or 'write'.", "scopes")
    # Writing without reading back what was written is no use to any client.
    if WRITE in wanted:
        wanted.add(READ)
    return sorted(wanted)


async def issue_token(
    session: AsyncSession,
    *,
    user_id: int,
    organization_id: int,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime,
    prefix: str,
    now: dt.datetime,
) -> IssuedToken:
    secret = prefix + secrets.token_urlsafe(32)
    token = models.AccessToken(
        organization_id=organization_id,
        user_id=user_id,
        name=name,
        token_hash=hash_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
        last_used_at=now,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


async def create_access_token(
    session: AsyncSession,
    viewer: Viewer,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A personal access token for the viewer; the secret in the result is never retrievable again."""
    now = now or models.utcnow()
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("Name the token (1 to 200 characters) so you can recognise it later.", "name")
    normalized = normalize_scopes(scopes)
    if WRITE in normalized and viewer.role == Role.VIEWER:
        raise Forbidden("Viewers may only create read tokens.", "scopes")
    days = DEFAULT_LIFETIME_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise ValidationFailed(f"A token lives between 1 and {MAX_LIFETIME_DAYS} days.", "expiresInDays")
    return await issue_token(
        session,
        user_id=viewer.user_id,
        organization_id=viewer.organization_id,
        name=name,
        scopes=normalized,
        expires_at=now + dt.timedelta(days=days),
        prefix=TOKEN_PREFIX,
        now=now,
    )


async def create_session_token(
    session: AsyncSession, *, user_id: int, organization_id: int, lifetime: dt.timedelta, now: dt.datetime | None = None
) -> IssuedToken:
    """The server side of a browser session: revocable, with an absolute expiry."""
    now = now or models.utcnow()
    return await issue_token(
        session,
        user_id=user_id,
        organization_id=organization_id,
        name="Browser session",
        scopes=[READ, SESSION, WRITE],
        expires_at=now + lifetime,
        prefix=SESSION_PREFIX,
        now=now,
    )


async def revoke_access_token(
    session: AsyncSession, viewer: Viewer, token_id: int, now: dt.datetime | None = None
) -> bool:
    """Revoke one of the viewer's tokens (an admin may revoke anyone's in the organization).

    False when there is no such live token the viewer may revoke: foreign and missing read the same.
    """
    conditions = [
        models.AccessToken.id == token_id,
        models.AccessToken.organization_id == viewer.organization_id,
        models.AccessToken.revoked_at.is_(None),
    ]
    if not viewer.is_admin:
        conditions.append(models.AccessToken.user_id == viewer.user_id)
    result = await session.execute(
        update(models.AccessToken).where(*conditions).values(revoked_at=now or models.utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_secret(session: AsyncSession, secret: str, now: dt.datetime | None = None) -> None:
    await session.execute(
        update(models.AccessToken)
        .where(models.AccessToken.token_hash == hash_secret(secret), models.AccessToken.revoked_at.is_(None))
        .values(revoked_at=now or models.utcnow())
    )


# Built once: token, membership, user and the viewer's teams in one statement (see viewer_statement).
_TOKENS = models.AccessToken.__table__
_TOKEN = (
    select(
        _TOKENS.c.id,
        _TOKENS.c.user_id,
        _TOKENS.c.organization_id,
        _TOKENS.c.scopes,
        _TOKENS.c.expires_at,
        _TOKENS.c.last_used_at,
    )
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
    .cte("token")
)
_RESOLVE = viewer_statement(_TOKEN, *_TOKEN.c)


async def resolve_secret(session: AsyncSession, secret: str, now: dt.datetime | None = None) -> TokenOwner | None:
    """The live token a secret names, with its owner still a member of the token's organization
    and the viewer it speaks for (API scopes only).

    One statement in the common case; expired, revoked, unknown and orphaned all answer None.
    """
    now = now or models.utcnow()
    connection = await session.connection()
    rows = (await connection.execute(_RESOLVE, {"token_hash": hash_secret(secret)})).all()
    if not rows:
        return None
    token_id, user_id, organization_id, scopes, expires_at, last_used_at = rows[0][:6]
    if expires_at is not None and expires_at <= now:
        return None
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        await connection.execute(
            update(models.AccessToken).where(models.AccessToken.id == token_id).values(last_used_at=now)
        )
    scopes = frozenset(scopes)
    viewer = viewer_from_rows(rows, user_id, organization_id, scopes & API_SCOPES)
    assert viewer is not None  # the rows came back, so the membership they join exists
    return TokenOwner(token_id=token_id, user_id=user_id, organization_id=organization_id, scopes=scopes, viewer=viewer)
