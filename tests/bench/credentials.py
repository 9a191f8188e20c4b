"""How the benchmark signs its requests.

Preferred: personal access tokens issued through the identity service, exactly as an API client
would hold them, with the server in production mode. While that service does not exist the
development header is the only way in, and it needs OKR_ENV=development; the results then say so.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from server.database import Database


@dataclass
class Credentials:
    mode: str
    headers_by_email: dict[str, dict[str, str]] = field(default_factory=dict)
    server_env: dict[str, str] = field(default_factory=dict)

    def headers(self, email: str) -> dict[str, str]:
        return self.headers_by_email.get(email, {})


async def _issue_tokens(url: str, users: dict[str, tuple[int, int]]) -> dict[str, dict[str, str]] | None:
    try:
        service = importlib.import_module("workflow.services.access_tokens")
    except ImportError:
        return None
    create = getattr(service, "create_access_token", None) or getattr(service, "issue_access_token", None)
    if create is None:
        return None
    from workflow.viewer import load_viewer

    database = Database(url)
    headers: dict[str, dict[str, str]] = {}
    try:
        async with database.transaction() as session:
            for email, (user_id, organization_id) in users.items():
                viewer = await load_viewer(session, user_id, organization_id)
                assert viewer is not None
                parameters = inspect.signature(create).parameters
                arguments: dict[str, Any] = {"name": "bench", "scopes": ["read", "write"]}
                if "expires_in_days" in parameters:
                    arguments["expires_in_days"] = 1
                issued = await create(session, viewer, **{k: v for k, v in arguments.items() if k in parameters})
                secret = issued if isinstance(issued, str) else issued.secret
                headers[email] = {"authorization": f"Bearer {secret}"}
    finally:
        await database.dispose()
    return headers


def prepare(url: str, users: dict[str, tuple[int, int]]) -> Credentials:
    """Credentials for each (email -> (user id, organization id))."""
    try:
        tokens = asyncio.run(_issue_tokens(url, users))
    except Exception as error:  # any failure of a service still being built falls back, loudly
        print(f"  personal access tokens unavailable ({type(error).__name__}: {error}); using the dev header")
        tokens = None
    if tokens is not None:
        return Credentials(mode="personal access token", headers_by_email=tokens)
    return dev_header(users)


def dev_header(users: dict[str, tuple[int, int]]) -> Credentials:
    try:
        from server.auth import DEV_USER_HEADER  # type: ignore[attr-defined]
    except ImportError:
        return Credentials(mode="none (no token service and no development header)")

    return Credentials(
        mode="development header (OKR_ENV=development)",
        headers_by_email={email: {DEV_USER_HEADER: email} for email in users},
        server_env={"OKR_ENV": "development"},
    )
