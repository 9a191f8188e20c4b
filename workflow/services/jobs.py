"""Scheduled work as rows: each job has a unique key, so planning the same job twice inserts it once.

Several scheduler processes plan concurrently; `INSERT ... ON CONFLICT DO NOTHING` on the key makes
the second insert a no-op on both engines instead of a unique-violation that would abort the
planner's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models


@dataclass(frozen=True)
class PlannedJob:
    kind: str
    key: str
    run_at: dt.datetime
    organization_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def insert_jobs_statement(dialect_name: str, jobs: Sequence[PlannedJob]) -> Insert:
    """One INSERT for all `jobs`, skipping any whose key already exists."""
    values = [
        {
            "kind": job.kind,
            "key": job.key,
            "run_at": job.run_at,
            "organization_id": job.organization_id,
            "payload": job.payload,
            "created_at": models.utcnow(),
            "attempts": 0,
        }
        for job in jobs
    ]
    dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return dialect_insert(models.Job).values(values).on_conflict_do_nothing(index_elements=["key"])


async def plan(session: AsyncSession, jobs: Sequence[PlannedJob]) -> int:
    """Insert the jobs not planned yet; returns how many were new."""
    if not jobs:
        return 0
    unique = list({job.key: job for job in jobs}.values())
    result = await session.execute(insert_jobs_statement(session.get_bind().dialect.name, unique))
    return max(int(result.rowcount), 0)  # type: ignore[attr-defined]


# Every job key names a moment that never comes back (a due window, a cycle version, a delivery), so
# a finished job older than any cycle can be forgotten without anything running twice.
KEEP_DONE = dt.timedelta(days=400)


async def prune(session: AsyncSession, now: dt.datetime, keep: dt.timedelta = KEEP_DONE) -> int:
    """Delete finished jobs older than `keep`; returns how many."""
    result = await session.execute(
        delete(models.Job).where(models.Job.done_at.is_not(None), models.Job.done_at < now - keep)
    )
    return max(int(result.rowcount), 0)  # type: ignore[attr-defined]
