"""Shared fixtures: a migrated database per run, a rolled-back transaction per test, the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import create_app
from server.database import Database
from server.settings import Settings
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, reset_and_migrate, test_database_url
from tests.fixtures.factories import Factory


@pytest.fixture(scope="session")
def database_url() -> str:
    url = test_database_url()
    reset_and_migrate(url)
    return url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def test_db(database: Database) -> AsyncIterator[TransactionalDatabase]:
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        yield TransactionalDatabase(database.url, connection, database)
        await transaction.rollback()


@pytest.fixture
async def session(test_db: TransactionalDatabase) -> AsyncIterator[AsyncSession]:
    async with test_db.session() as session:
        yield session


@pytest.fixture
def factory(session: AsyncSession) -> Factory:
    return Factory(session)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No background scheduler in tests: the scheduler's tests drive it with an injected clock.
    return Settings(
        database_url=database_url,
        env="development",
        secret_key="test-secret-key-0123456789",
        scheduler_enabled=False,
    )


@pytest.fixture
async def client(settings: Settings, test_db: TransactionalDatabase) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, test_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)
