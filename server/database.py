"""Engine and sessions.

SQLite runs in WAL mode with a busy timeout; write transactions begin IMMEDIATE so concurrent
writers queue on the lock instead of failing with "database is locked" at commit time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (alembic, CLI checks)."""
    return url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+psycopg", "postgresql+psycopg")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so BEGIN (and SAVEPOINTs) are ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("okr_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """One engine per process; sessions per request (services flush, the request commits)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        # PostgreSQL reads run in autocommit: its READ COMMITTED gives each statement its own snapshot
        # inside a transaction too, so a read gains nothing from BEGIN and COMMIT but two round
        # trips. Writes (mutations, jobs, the CLI) take the writer, whose unit of work is atomic.
        reader = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reader = async_sessionmaker(reader, expire_on_commit=False, autoflush=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(okr_write=True), expire_on_commit=False, autoflush=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> AsyncSession:
        return (self._writer if write else self._reader)()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (CLI, scheduler): commit on success, roll back on error."""
        async with self.session(write=write) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
