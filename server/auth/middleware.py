"""Authentication of every request, before any route runs.

Credentials, in order: `Authorization: Bearer` (a personal access token or an IdP JWT), else the
session cookie. The API answers 401 without one; a missing, forged, expired or revoked credential
all get the very same answer, so a caller learns nothing about which it was.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from graphql import OperationType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.csrf import request_csrf_ok
from server.auth.idp_tokens import BearerVerifier
from server.auth.principal import (
    PRINCIPAL_STATE_KEY,
    REQUEST_SESSION_STATE_KEY,
    Credential,
    Principal,
    RequestSession,
)
from server.database import Database
from server.middleware.guards import OPERATION_TYPE_STATE_KEY
from server.settings import Settings
from workflow import models
from workflow.services.access_tokens import API_SCOPES, SESSION, TOKEN_PREFIX, TokenOwner, resolve_secret
from workflow.viewer import load_viewer

log = logging.getLogger("okr.auth")

SESSION_TOKEN_KEY = "token"
# Paths that answer 401 to anonymous callers; everything else (the web app, /auth/*, /healthz) is public.
PROTECTED_PREFIXES = ("/graphql", "/api/")
UNAUTHENTICATED_BODY = {"errors": [{"message": "Sign in to use the API.", "extensions": {"code": "UNAUTHENTICATED"}}]}


def _is_protected(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    if not path.startswith(PROTECTED_PREFIXES):
        return False
    if scope["type"] == "http" and path == "/graphql" and scope.get("method") == "GET":
        # The GraphiQL page itself (a GET without a query) carries no data.
        return b"query=" in scope.get("query_string", b"")
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def with_viewer(session: AsyncSession, principal: Principal) -> Principal:
    """The principal with its viewer, read in the transaction that checked the credential: one
    transaction (one pooled connection, one round of BEGIN/COMMIT) per request instead of two."""
    viewer = await load_viewer(session, principal.user_id, principal.organization_id, principal.scopes)
    return replace(principal, viewer=viewer)


def _token_principal(owner: TokenOwner, credential: Credential, *, csrf_verified: bool = True) -> Principal:
    """A server-issued secret's owner (access token or browser session), API scopes only."""
    return Principal(
        user_id=owner.user_id,
        organization_id=owner.organization_id,
        credential=credential,
        scopes=owner.scopes & API_SCOPES,
        csrf_verified=csrf_verified,
        viewer=owner.viewer,
    )


class AuthMiddleware:
    def __init__(
        self, app: ASGIApp, *, database: Database, settings: Settings, verifier: BearerVerifier | None
    ) -> None:
        self.app = app
        self.database = database
        self.settings = settings
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        # The credential is checked in the request's own transaction, which the GraphQL view then
        # continues (`request_session`): one pooled connection, one BEGIN and one COMMIT per request.
        # A mutation's credential is checked in the write transaction it then runs in.
        write = scope.get("state", {}).get(OPERATION_TYPE_STATE_KEY) == OperationType.MUTATION.value
        session = self.database.session(write=write)
        try:
            principal = await self.authenticate(conn, session)
            state = scope.setdefault("state", {})
            state[PRINCIPAL_STATE_KEY] = principal
            if principal is None and _is_protected(scope):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4401, "reason": "unauthenticated"})
                    return
                response = JSONResponse(
                    UNAUTHENTICATED_BODY, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="okr"'}
                )
                await response(scope, receive, send)
                return
            if scope["type"] == "http":
                state[REQUEST_SESSION_STATE_KEY] = RequestSession(session, write)
            else:
                # A socket lives for hours: its handshake's transaction ends now.
                await session.commit()
            await self.app(scope, receive, send)
            # Whoever took the session over has ended its transaction; otherwise keep what the
            # credential check wrote (a token's last use).
            if session.in_transaction():
                await session.commit()
        finally:
            await session.close()

    def _verifier(self, conn: HTTPConnection) -> BearerVerifier | None:
        # The app's state wins, so tests (and key-rotation tooling) can swap the verifier in place.
        state = getattr(conn.scope.get("app"), "state", None)
        found = getattr(state, "idp_verifier", None) if state is not None else None
        return found if found is not None else self.verifier

    async def authenticate(self, conn: HTTPConnection, db: AsyncSession) -> Principal | None:
        authorization = conn.headers.get("authorization")
        if authorization is not None:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                return None
            return await self._bearer(conn, db, credential.strip())
        session: dict[str, Any] | None = conn.scope.get("session")
        if session and isinstance(session.get(SESSION_TOKEN_KEY), str):
            return await self._cookie(conn, db, session)
        return None

    async def _bearer(self, conn: HTTPConnection, db: AsyncSession, credential: str) -> Principal | None:
        if credential.startswith(TOKEN_PREFIX):
            owner = await resolve_secret(db, credential)
            if owner is None or SESSION in owner.scopes:
                return None
            return _token_principal(owner, Credential.ACCESS_TOKEN)
        verifier = self._verifier(conn)
        if verifier is None or credential.count(".") != 2:
            return None
        identity = await verifier.verify(credential)
        if identity is None:
            return None
        row = (
            await db.execute(
                select(models.Membership.user_id, models.Membership.organization_id)
                .join(models.User, models.User.id == models.Membership.user_id)
                .where(models.User.issuer == identity.issuer, models.User.subject == identity.subject)
                .order_by(models.Membership.id)
                .limit(1)
            )
        ).first()
        if row is None:
            # Users come into being by signing in through the browser, where the organization is chosen.
            return None
        return await with_viewer(db, Principal(user_id=row[0], organization_id=row[1], credential=Credential.IDP_JWT))

    async def _cookie(self, conn: HTTPConnection, db: AsyncSession, session: dict[str, Any]) -> Principal | None:
        if conn.scope["type"] == "websocket":
            origin = conn.headers.get("origin")
            # Browsers send cookies on cross-site WebSocket handshakes: only our own pages may use them.
            if origin is not None and origin.rstrip("/") != _origin(self.settings.public_url):
                return None
        owner = await resolve_secret(db, session[SESSION_TOKEN_KEY])
        if owner is None or SESSION not in owner.scopes:
            # Expired or signed out elsewhere: forget it, so the browser drops the cookie.
            session.clear()
            return None
        return _token_principal(owner, Credential.SESSION_COOKIE, csrf_verified=request_csrf_ok(conn, session))
