"""Browser sign-in end to end against oidc-provider-mock on loopback: the production code path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import create_app
from tests.fixtures.database import TransactionalDatabase
from tests.fixtures.factories import Factory
from tests.fixtures.oidc import OidcProvider, oidc_provider, signin_settings  # noqa: F401  (fixture)
from workflow import models
from workflow.enums import Role

VIEWER_QUERY = {"query": "{ viewer { name email role } }"}
TOKEN_MUTATION = {
    "query": 'mutation { createAccessToken(name: "cli", scopes: ["read"]) { token userErrors { code } } }'
}


@pytest.fixture
async def browser(
    oidc_provider: OidcProvider,  # noqa: F811
    test_db: TransactionalDatabase,
    database_url: str,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = signin_settings(oidc_provider, database_url, "signin-test-secret-0123456789")
    app = create_app(settings, test_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def authorize(browser: httpx.AsyncClient, subject: str, tamper: dict[str, str] | None = None) -> str:
    """Start sign-in, let the provider authenticate `subject`; the callback path the provider redirects to."""
    login = await browser.get("/auth/login")
    assert login.status_code == 302
    location = login.headers["location"]
    parts = urlsplit(location)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params.update(tamper or {})
    async with httpx.AsyncClient() as provider:
        answer = await provider.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}", data={"sub": subject}
        )
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["location"])
    assert callback.path == "/auth/callback"
    return f"{callback.path}?{callback.query}"


async def test_login_redirect_carries_pkce_state_and_nonce(browser: httpx.AsyncClient, oidc_provider) -> None:  # noqa: F811
    response = await browser.get("/auth/login")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.netloc == urlsplit(oidc_provider.url).netloc
    params = parse_qs(location.query)
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) >= 43
    assert len(params["state"][0]) >= 20
    assert len(params["nonce"][0]) >= 20
    assert params["redirect_uri"] == ["http://testserver/auth/callback"]
    assert "openid" in params["scope"][0].split()


async def test_callback_creates_the_user_and_signs_them_in(
    browser: httpx.AsyncClient,
    oidc_provider: OidcProvider,  # noqa: F811
    factory: Factory,
    session: AsyncSession,
) -> None:
    org = await factory.organization(domain="signin.test")
    org.group_roles = {"okr-execs": "EXEC"}
    await session.flush()
    oidc_provider.set_user(
        "alice", email="alice@signin.test", email_verified=True, name="Alice Example", groups=["okr-execs"]
    )
    assert (await browser.post("/graphql", json=VIEWER_QUERY)).status_code == 401

    done = await browser.get(await authorize(browser, "alice"))
    assert done.status_code == 303
    set_cookies = done.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookies if c.startswith("okr_session="))
    assert "httponly" in session_cookie.lower()
    assert "samesite=lax" in session_cookie.lower()
    assert "max-age=" in session_cookie.lower()
    assert any(c.startswith("okr_csrf=") and "httponly" not in c.lower() for c in set_cookies)

    viewer = await browser.post("/graphql", json=VIEWER_QUERY)
    assert viewer.status_code == 200
    assert viewer.json()["data"]["viewer"] == {"name": "Alice Example", "email": "alice@signin.test", "role": "EXEC"}
    user = (await session.execute(select(models.User).where(models.User.subject == "alice"))).scalar_one()
    assert user.issuer == oidc_provider.url
    membership = (
        await session.execute(select(models.Membership).where(models.Membership.user_id == user.id))
    ).scalar_one()
    assert (membership.organization_id, membership.role) == (org.id, Role.EXEC)

    # Signing in again links to the same user: (issuer, subject) is the identity.
    await browser.get(await authorize(browser, "alice"))
    users = (await session.execute(select(models.User).where(models.User.subject == "alice"))).scalars().all()
    assert len(users) == 1


async def test_cookie_mutations_need_the_csrf_echo_and_logout_ends_the_session(
    browser: httpx.AsyncClient,
    oidc_provider: OidcProvider,  # noqa: F811
    factory: Factory,
) -> None:
    await factory.organization(domain="csrf.test")
    oidc_provider.set_user("bob", email="bob@csrf.test", email_verified=True, name="Bob")
    await browser.get(await authorize(browser, "bob"))
    csrf = browser.cookies["okr_csrf"]

    refused = (await browser.post("/graphql", json=TOKEN_MUTATION)).json()
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "CSRF"
    wrong = (await browser.post("/graphql", json=TOKEN_MUTATION, headers={"X-CSRF-Token": "forged"})).json()
    assert wrong["errors"][0]["extensions"]["code"] == "CSRF"
    # Queries need no echo.
    assert (await browser.post("/graphql", json=VIEWER_QUERY)).json()["data"]["viewer"]["name"] == "Bob"
    accepted = (await browser.post("/graphql", json=TOKEN_MUTATION, headers={"X-CSRF-Token": csrf})).json()
    assert accepted["data"]["createAccessToken"]["userErrors"] == []
    assert accepted["data"]["createAccessToken"]["token"].startswith("okr_pat_")

    stolen = browser.cookies["okr_session"]
    assert (await browser.post("/auth/logout")).status_code == 403  # logout is CSRF-protected too
    out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 303
    assert (await browser.post("/graphql", json=VIEWER_QUERY)).status_code == 401
    # A copy of the old cookie is dead as well: the session was revoked on the server.
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://testserver") as other:
        replay = await other.post("/graphql", json=VIEWER_QUERY, headers={"Cookie": f"okr_session={stolen}"})
    assert replay.status_code == 401


@pytest.mark.parametrize("field", ["state", "nonce"])
async def test_tampered_state_or_nonce_is_refused(
    browser: httpx.AsyncClient,
    oidc_provider: OidcProvider,  # noqa: F811
    factory: Factory,
    session: AsyncSession,
    field: str,
) -> None:
    await factory.organization(domain="tamper.test")
    oidc_provider.set_user("mallory", email="mallory@tamper.test", email_verified=True, name="M")
    callback = await authorize(
        browser, "mallory", tamper={"nonce": "attacker-chosen-nonce"} if field == "nonce" else None
    )
    if field == "state":
        path, _, query = callback.partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        params["state"] = params["state"][::-1]
        callback = f"{path}?{urlencode(params)}"
    response = await browser.get(callback)
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert (await browser.post("/graphql", json=VIEWER_QUERY)).status_code == 401
    found = (await session.execute(select(models.User).where(models.User.subject == "mallory"))).scalar_one_or_none()
    assert found is None


async def test_people_no_organization_accepts_get_a_clear_refusal(
    browser: httpx.AsyncClient,
    oidc_provider: OidcProvider,  # noqa: F811
    factory: Factory,
) -> None:
    await factory.organization(domain="accepted.test")
    oidc_provider.set_user("eve", email="eve@elsewhere.test", email_verified=True, name="Eve")
    refused = await browser.get(await authorize(browser, "eve"))
    assert refused.status_code == 403
    assert "elsewhere.test" in refused.text
    oidc_provider.set_user("ivan", email="ivan@accepted.test", email_verified=False, name="Ivan")
    unverified = await browser.get(await authorize(browser, "ivan"))
    assert unverified.status_code == 403
    assert "verified" in unverified.text


async def test_admins_by_email_join_as_admin(
    browser: httpx.AsyncClient,
    oidc_provider: OidcProvider,  # noqa: F811
    factory: Factory,
    session: AsyncSession,
) -> None:
    org = await factory.organization(domain="boot.test")
    org.admins_by_email = ["root@boot.test"]
    await session.flush()
    oidc_provider.set_user("root", email="root@boot.test", email_verified=True, name="Root")
    await browser.get(await authorize(browser, "root"))
    data = (await browser.post("/graphql", json=VIEWER_QUERY)).json()["data"]
    assert data["viewer"]["role"] == "ADMIN"
