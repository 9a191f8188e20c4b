"""The in-process scheduler: plans reminders and cycle ends, claims due jobs, runs each once.

Safe with several server processes on one database. A job is claimed by writing a lease
(`claimed_by`, `claimed_until`): on PostgreSQL the due rows are selected `FOR UPDATE SKIP LOCKED`,
so concurrent schedulers split the work without waiting on each other; on SQLite (one writer at a
time anyway) a conditional UPDATE takes only rows nobody holds. A job's effects and its `done_at`
are committed in one transaction, and only while the lease is still ours, so a job whose lease ran
out and was taken over is never booked twice. A crashed process's claims expire with their lease;
a graceful shutdown releases them at once.

Time comes from a clock object: tests move it forward instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy import or_, select, update

from server.database import Database
from server.metrics import SCHEDULER_JOBS, SCHEDULER_LAG
from server.webhooks import deliver
from workflow import models
from workflow.services import jobs, reminders, webhooks

log = logging.getLogger("okr.scheduler")

DEFAULT_LEASE = dt.timedelta(minutes=5)
MAX_JOB_ATTEMPTS = 8
PRUNE_EVERY = dt.timedelta(hours=1)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class TickReport:
    planned: int = 0
    claimed: int = 0
    done: int = 0
    failed: int = 0


def _job_retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


class Scheduler:
    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        name: str | None = None,
        interval: float = 30.0,
        lease: dt.timedelta = DEFAULT_LEASE,
        batch_size: int = 100,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.database = database
        self.clock: Clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.interval = interval
        self.lease = lease
        self.batch_size = batch_size
        self._http = http
        self._owns_http = http is None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned_at: dt.datetime | None = None
        webhooks.install()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    async def tick(self) -> TickReport:
        """One round: plan what is due, claim a batch, run it. Returns what happened."""
        report = TickReport()
        now = self.clock.now()
        async with self.database.transaction() as session:
            report.planned = await reminders.plan_jobs(session, now)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                await jobs.prune(session, now)
                self._pruned_at = now
        claimed = await self.claim(now)
        report.claimed = len(claimed)
        # How late the oldest due job starts; nothing due means nothing is late.
        SCHEDULER_LAG.set(max((now - min(job.run_at for job in claimed)).total_seconds(), 0.0) if claimed else 0.0)
        for job in claimed:
            if self._stop.is_set():
                break  # shutting down: the rest are released, another process picks them up
            if await self.run(job, now):
                report.done += 1
            else:
                report.failed += 1
        return report

    async def claim(self, now: dt.datetime) -> list[models.Job]:
        due = (
            select(models.Job)
            .where(
                models.Job.done_at.is_(None),
                models.Job.run_at <= now,
                or_(models.Job.claimed_until.is_(None), models.Job.claimed_until < now),
            )
            .order_by(models.Job.run_at, models.Job.id)
            .limit(self.batch_size)
        )
        until = now + self.lease
        async with self.database.transaction() as session:
            if not self.database.is_sqlite:
                locked = list((await session.execute(due.with_for_update(skip_locked=True))).scalars())
                for job in locked:
                    job.claimed_by, job.claimed_until = self.name, until
                return locked
            claimed = []
            for job in (await session.execute(due)).scalars():
                taken = await session.execute(
                    update(models.Job)
                    .where(
                        models.Job.id == job.id,
                        models.Job.done_at.is_(None),
                        or_(models.Job.claimed_until.is_(None), models.Job.claimed_until < now),
                    )
                    .values(claimed_by=self.name, claimed_until=until)
                )
                if int(taken.rowcount) == 1:  # type: ignore[attr-defined]
                    claimed.append(job)
            return claimed

    async def run(self, job: models.Job, now: dt.datetime) -> bool:
        """Run one claimed job; True when it is done."""
        if job.kind == webhooks.DELIVERY_JOB:
            delivered = await deliver(self.database, job, self.name, now, self.http)
            SCHEDULER_JOBS.labels(job.kind, "done" if delivered else "retry").inc()
            return delivered
        try:
            async with self.database.transaction() as session:
                fresh = await session.get(models.Job, job.id)
                assert fresh is not None
                await reminders.run_job(session, fresh, now)
                booked = await session.execute(
                    update(models.Job)
                    .where(models.Job.id == job.id, models.Job.claimed_by == self.name, models.Job.done_at.is_(None))
                    .values(done_at=now, claimed_by=None, claimed_until=None, attempts=models.Job.attempts + 1)
                )
                if int(booked.rowcount) != 1:  # type: ignore[attr-defined]
                    raise _LostClaim()
        except _LostClaim:
            SCHEDULER_JOBS.labels(job.kind, "lost").inc()
            return False
        except Exception as error:  # a failing job must not stop the others; it is retried later
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._book_failure(job, now, error)
            SCHEDULER_JOBS.labels(job.kind, "error").inc()
            return False
        SCHEDULER_JOBS.labels(job.kind, "done").inc()
        return True

    async def _book_failure(self, job: models.Job, now: dt.datetime, error: Exception) -> None:
        async with self.database.transaction() as session:
            attempts = job.attempts + 1
            values: dict[str, object] = {
                "claimed_by": None,
                "claimed_until": None,
                "attempts": attempts,
                "last_error": f"{type(error).__name__}: {error}"[:2000],
                "run_at": now + _job_retry_delay(attempts),
            }
            if attempts >= MAX_JOB_ATTEMPTS:
                values["done_at"] = now  # given up; last_error says why
            await session.execute(
                update(models.Job).where(models.Job.id == job.id, models.Job.claimed_by == self.name).values(**values)
            )

    async def release_claims(self) -> int:
        """Give back every unfinished job this scheduler holds, so another process runs it now."""
        async with self.database.transaction() as session:
            result = await session.execute(
                update(models.Job)
                .where(models.Job.claimed_by == self.name, models.Job.done_at.is_(None))
                .values(claimed_by=None, claimed_until=None)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # the database may be briefly away; try again next interval
                log.exception("scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run_forever(), name=f"okr-scheduler-{self.name}")

    async def stop(self) -> None:
        """Finish the job in hand, release the other claims and close the HTTP client."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.release_claims()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None


class _LostClaim(Exception):
    """Our lease expired and another scheduler took the job over; our work is rolled back."""
