"""How the benchmark signs its requests: personal access tokens issued through the identity service,
exactly as an API client would hold them, with the server in production mode."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from server.database import Database
from workflow.services.access_tokens import create_access_token
from workflow.viewer import load_viewer


@dataclass
class Credentials:
    mode: str
    headers_by_email: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, email: str) -> dict[str, str]:
        return self.headers_by_email[email]


async def _issue_tokens(url: str, users: dict[str, tuple[int, int]]) -> dict[str, dict[str, str]]:
    database = Database(url)
    headers: dict[str, dict[str, str]] = {}
    try:
        async with database.transaction() as session:
            for email, (user_id, organization_id) in users.items():
                viewer = await load_viewer(session, user_id, organization_id)
                assert viewer is not None, f"{email} is not a member of organization {organization_id}"
                issued = await create_access_token(
                    session, viewer, name="bench", scopes=["read", "write"], expires_in_days=1
                )
                headers[email] = {"authorization": f"Bearer {issued.secret}"}
    finally:
        await database.dispose()
    return headers


def prepare(url: str, users: dict[str, tuple[int, int]]) -> Credentials:
    """A token for each (email -> (user id, organization id))."""
    return Credentials(mode="personal access token", headers_by_email=asyncio.run(_issue_tokens(url, users)))
