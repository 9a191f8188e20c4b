"""Who is calling, as the HTTP layer established it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from workflow.viewer import Viewer

PRINCIPAL_STATE_KEY = "okr_principal"
# The database session the credential was checked in, still in its transaction, for the request to go on with.
REQUEST_SESSION_STATE_KEY = "okr_request_session"


class Credential(StrEnum):
    SESSION_COOKIE = "session_cookie"
    ACCESS_TOKEN = "access_token"
    IDP_JWT = "idp_jwt"


@dataclass(frozen=True)
class Principal:
    user_id: int
    organization_id: int
    credential: Credential
    scopes: frozenset[str] = frozenset({"read", "write"})
    # A cookie travels with every request the browser makes, including forged cross-site ones, so
    # mutations over it need the CSRF echo; bearer credentials are never sent implicitly.
    csrf_verified: bool = True
    # The caller as the workflow sees them, read with the credential (None: no longer a member).
    viewer: Viewer | None = field(default=None, compare=False)

    @property
    def may_write(self) -> bool:
        return "write" in self.scopes


def principal_of(conn: HTTPConnection) -> Principal | None:
    """The principal the auth middleware attached to this request (None: anonymous)."""
    found = conn.scope.get("state", {}).get(PRINCIPAL_STATE_KEY)
    return found if isinstance(found, Principal) else None


@dataclass(frozen=True)
class RequestSession:
    """The database session a request's credential was checked in, still in its transaction."""

    session: AsyncSession
    write: bool


def request_session(conn: HTTPConnection) -> RequestSession | None:
    """The session `AuthMiddleware` checked this request's credential in (None outside a request)."""
    found = conn.scope.get("state", {}).get(REQUEST_SESSION_STATE_KEY)
    return found if isinstance(found, RequestSession) else None
