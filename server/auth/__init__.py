"""Identity on the HTTP side: OIDC sign-in, sessions, bearer tokens, CSRF (DESIGN §5).

`install_auth` wires it into the app: the session and auth middlewares, the /auth routes and the
mutation guard; `authenticate` hands the GraphQL view the principal the middleware established.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Route

from server.auth.guard import CredentialGuard
from server.auth.idp_tokens import BearerVerifier, IdpTokenVerifier
from server.auth.middleware import AuthMiddleware
from server.auth.oidc import build_oauth, oidc_routes
from server.auth.principal import Credential, Principal, principal_of
from server.database import Database
from server.settings import Settings

SESSION_COOKIE = "okr_session"

__all__ = [
    "SESSION_COOKIE",
    "AuthSetup",
    "Credential",
    "CredentialGuard",
    "Principal",
    "authenticate",
    "build_auth",
    "principal_of",
]


async def authenticate(conn: HTTPConnection, settings: Settings, session_factory: object) -> Principal | None:
    """The caller of this request, as established by `AuthMiddleware` (None: anonymous)."""
    return principal_of(conn)


@dataclass
class AuthSetup:
    middleware: list[Middleware]
    routes: list[Route]
    verifier: BearerVerifier | None


def build_auth(settings: Settings, database: Database, verifier: BearerVerifier | None = None) -> AuthSetup:
    if verifier is None and settings.oidc_configured:
        assert settings.oidc_issuer is not None
        assert settings.oidc_client_id is not None
        verifier = IdpTokenVerifier(settings.oidc_issuer, settings.oidc_audience or settings.oidc_client_id)
    middleware = [
        # Outermost first: the session must be decoded before the auth middleware reads it.
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=settings.session_max_age,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
        Middleware(AuthMiddleware, database=database, settings=settings, verifier=verifier),
    ]
    return AuthSetup(
        middleware=middleware, routes=oidc_routes(settings, database, build_oauth(settings)), verifier=verifier
    )
