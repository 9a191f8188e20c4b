"""SQLite under concurrent writers: mutations begin IMMEDIATE, so writers queue instead of failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.database import Database
from server.migrations import migrate
from server.settings import Settings
from tests.fixtures.factories import Factory
from tests.fixtures.oidc import TEST_IDP
from tests.server.hardening import bearer
from workflow import models

WRITERS = 30
MARK_READ = "mutation { markNotificationsRead }"


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'concurrent.sqlite3'}"
    migrate(url)
    database = Database(url)
    yield database
    await database.dispose()


async def test_concurrent_mutations_queue_on_the_write_lock(sqlite_file: Database, settings: Settings) -> None:
    async with sqlite_file.transaction() as session:
        factory = Factory(session)
        org = await factory.organization()
        users = [await factory.user(org) for _ in range(WRITERS)]
        for user in users:
            session.add(models.Notification(organization_id=org.id, user_id=user.id, kind="k", message="m"))
    app = create_app(replace(settings, database_url=sqlite_file.url, rate_limit_per_minute=100_000), sqlite_file)
    app.state.idp_verifier = TEST_IDP
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        # Every request reads first (its viewer), then writes: the pattern that fails with
        # "database is locked" when the transaction began DEFERRED and another writer got in between.
        responses = await asyncio.gather(
            *(client.post("/graphql", json={"query": MARK_READ}, headers=bearer(u)) for u in users)
        )
    bodies = [r.json() for r in responses]
    locked = sum("locked" in r.text for r in responses)
    changed = sum(b.get("data", {}).get("markNotificationsRead") or 0 for b in bodies if b.get("data"))
    print(f"\nsqlite: {WRITERS} concurrent writers, {changed} applied, {locked} 'database is locked'")
    assert [r.status_code for r in responses] == [200] * WRITERS
    assert [b.get("errors") for b in bodies] == [None] * WRITERS
    assert locked == 0
    assert changed == WRITERS
