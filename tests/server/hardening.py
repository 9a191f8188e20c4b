"""Helpers for the hardening tests: the real app with production settings and instrumented resolvers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from unittest.mock import patch

import httpx
from strawberry.extensions import SchemaExtension

import server.app
from server.app import create_app
from server.database import Database
from server.settings import Settings
from tests.fixtures.oidc import TEST_IDP


def production(settings: Settings, **overrides: Any) -> Settings:
    """The test settings as production runs them; rate limits high unless a test is about them."""
    return replace(settings, **{"env": "production", "rate_limit_per_minute": 100_000, **overrides})


class ResolverCalls:
    """Counts field resolutions (introspection aside): a refused request must show none."""

    def __init__(self) -> None:
        self.count = 0

    def extension(self) -> type[SchemaExtension]:
        calls = self

        class CountResolvers(SchemaExtension):
            def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
                if not info.field_name.startswith("__"):
                    calls.count += 1
                return _next(root, info, *args, **kwargs)

        return CountResolvers


class Faults:
    """Makes the `viewer` resolver fail with an internal error carrying a marker string."""

    def __init__(self) -> None:
        self.marker: str | None = None
        self.delay: float = 0.0

    def extension(self) -> type[SchemaExtension]:
        faults = self

        class InjectFaults(SchemaExtension):
            def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
                if info.field_name == "viewer" and faults.marker is not None:
                    raise RuntimeError(f"internal failure {faults.marker}")
                if info.field_name == "viewer" and faults.delay:
                    return _sleep_then(faults.delay, _next(root, info, *args, **kwargs))
                return _next(root, info, *args, **kwargs)

        return InjectFaults


async def _sleep_then(delay: float, result: Any) -> Any:
    import asyncio
    import inspect

    await asyncio.sleep(delay)
    return await result if inspect.isawaitable(result) else result


@asynccontextmanager
async def app_client(
    settings: Settings, database: Database, *extensions: type[SchemaExtension], client_address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app; `extensions` are added after the server's own, so limits still run first."""
    original = server.app.limit_extensions
    with patch.object(server.app, "limit_extensions", lambda s: [*original(s), *extensions]):
        app = create_app(settings, database)
    app.state.idp_verifier = TEST_IDP
    transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_IDP.token(user.issuer, user.subject)}"}
