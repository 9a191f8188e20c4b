"""Browser sign-in: OpenID Connect authorization code flow with PKCE, state and nonce (DESIGN §5).

authlib's Starlette client does the protocol (discovery, PKCE verifier, state and nonce kept in the
signed session, ID token signature, `iss`, `aud`, `exp` and nonce checks); this module turns the
verified claims into a user and a server-side session.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any
from urllib.parse import parse_qs

from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from server.auth.csrf import (
    CSRF_COOKIE,
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SESSION_KEY,
    clear_csrf_cookie,
    csrf_matches,
    new_csrf_token,
    set_csrf_cookie,
)
from server.auth.middleware import SESSION_TOKEN_KEY
from server.database import Database
from server.settings import Settings
from workflow.services.access_tokens import create_session_token, revoke_secret
from workflow.services.identity import IdentityClaims, SignInRefused, sign_in

log = logging.getLogger("okr.auth")

CLIENT_NAME = "idp"
NEXT_KEY = "next"


def build_oauth(settings: Settings) -> OAuth | None:
    if not settings.oidc_configured:
        return None
    assert settings.oidc_issuer is not None
    client_kwargs: dict[str, Any] = {"scope": settings.oidc_scopes, "code_challenge_method": "S256"}
    if not settings.oidc_client_secret:
        client_kwargs["token_endpoint_auth_method"] = "none"  # a public client: PKCE alone protects the code
    oauth = OAuth()
    oauth.register(
        name=CLIENT_NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )
    return oauth


def page(title: str, message: str, status_code: int, extra: str = "") -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} · okr-server</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{extra}"
        "<p><a href='/auth/login'>Try signing in again</a></p></body></html>"
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _safe_next(value: str | None) -> str:
    """Only paths on this server: an open redirect would lend our name to phishing links."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _groups(claims: dict[str, Any], claim_name: str) -> tuple[str, ...]:
    value = claims.get(claim_name)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def oidc_routes(settings: Settings, database: Database, oauth: OAuth | None) -> list[Route]:
    redirect_uri = f"{settings.public_url}/auth/callback"
    session_lifetime = dt.timedelta(seconds=settings.session_max_age)

    async def login(request: Request) -> Response:
        if oauth is None:
            return page("Sign-in is not configured", "Set OKR_OIDC_ISSUER and OKR_OIDC_CLIENT_ID.", 503)
        client = oauth.create_client(CLIENT_NAME)
        try:
            response: Response = await client.authorize_redirect(request, redirect_uri)
        except Exception as error:  # discovery failures surface as a page, not a 500
            log.warning("identity provider unreachable", exc_info=error)
            return page("Sign-in is unavailable", "The identity provider could not be reached.", 503)
        request.session[NEXT_KEY] = _safe_next(request.query_params.get("next"))
        return response

    async def callback(request: Request) -> Response:
        if oauth is None:
            return page("Sign-in is not configured", "Set OKR_OIDC_ISSUER and OKR_OIDC_CLIENT_ID.", 503)
        client = oauth.create_client(CLIENT_NAME)
        try:
            token = await client.authorize_access_token(request)
        except (OAuthError, JoseError, ValueError, KeyError) as error:
            # A tampered state, a replayed code or an ID token with the wrong nonce all land here.
            log.info("sign-in refused: %s", error)
            return page("Sign-in failed", "The answer from the identity provider could not be verified.", 400)
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            return page("Sign-in failed", "The identity provider sent no ID token.", 400)
        if "email" not in claims:
            # Some providers (Okta, Keycloak with defaults) put email only behind the userinfo endpoint.
            try:
                extra = dict(await client.userinfo(token=token))
            except Exception as error:
                log.warning("userinfo endpoint failed", exc_info=error)
                extra = {}
            if extra.get("sub") == claims["sub"]:
                claims = {**extra, **claims}
        identity = IdentityClaims(
            issuer=str(claims.get("iss", settings.oidc_issuer or "")).rstrip("/"),
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") or claims.get("preferred_username"),
            groups=_groups(claims, settings.oidc_groups_claim),
        )
        try:
            async with database.transaction() as session:
                signed_in = await sign_in(session, identity)
                issued = await create_session_token(
                    session,
                    user_id=signed_in.user_id,
                    organization_id=signed_in.organization_id,
                    lifetime=session_lifetime,
                )
        except SignInRefused as refusal:
            return page("You cannot sign in here", refusal.message, 403)
        destination = _safe_next(request.session.get(NEXT_KEY))
        # A fresh session on every sign-in: nothing from before (fixation) survives.
        request.session.clear()
        csrf = new_csrf_token()
        request.session[SESSION_TOKEN_KEY] = issued.secret
        request.session[SESSION_KEY] = csrf
        response = RedirectResponse(destination, status_code=303)
        set_csrf_cookie(response, csrf, settings)
        return response

    async def logout(request: Request) -> Response:
        if request.method == "GET":
            # Signing out changes state, so it takes a POST carrying the CSRF token.
            token = html.escape(str(request.session.get(SESSION_KEY, "")))
            form = (
                "<form method=post action='/auth/logout'>"
                f"<input type=hidden name={CSRF_FORM_FIELD} value='{token}'>"
                "<button type=submit>Sign out</button></form>"
            )
            return page("Sign out", "Sign out of okr-server on this browser?", 200, form)
        echoed = request.headers.get(CSRF_HEADER)
        if echoed is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            # The sign-out page's own form; parsed here, as python-multipart is not a dependency.
            fields = parse_qs((await request.body()).decode("utf-8", "replace"))
            echoed = next(iter(fields.get(CSRF_FORM_FIELD, [])), None)
        secret = request.session.get(SESSION_TOKEN_KEY)
        if isinstance(secret, str):
            cookie = request.cookies.get(CSRF_COOKIE) or echoed
            if not csrf_matches(request.session, echoed, cookie):
                return page("Sign-out refused", "The request did not carry this session's CSRF token.", 403)
            async with database.transaction() as session:
                await revoke_secret(session, secret)
        request.session.clear()
        response = RedirectResponse("/", status_code=303)
        clear_csrf_cookie(response, settings)
        return response

    return [
        Route("/auth/login", login, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
        Route("/auth/logout", logout, methods=["GET", "POST"]),
    ]
