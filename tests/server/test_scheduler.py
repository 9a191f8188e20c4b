"""The scheduler: reminders, alerts and cycle ends run once each, even with two schedulers racing.

Time is injected through a clock the test moves; nothing sleeps. The schedulers get their own
engines (as separate processes would) on the run's database, so claims really compete.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from server.database import Database
from server.scheduler import Scheduler
from server.settings import Settings
from tests.server.committed_data import committed_factory, drop_organization
from tests.server.fake_clock import FakeClock
from workflow import models
from workflow.enums import CyclePhase, ReminderCadence, Role, TeamRole, TrackingFrequency


@dataclass
class World:
    org_id: int
    lead_id: int
    owner_id: int
    quiet_id: int
    overdue_kr_id: int
    behind_kr_id: int
    quiet_kr_id: int
    ending_cycle_id: int
    reviewing_cycle_id: int


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    async with committed_factory(database) as factory:
        org = await factory.organization()
        team = await factory.team(org, "Growth")
        lead = await factory.user(org, Role.MEMBER, name="Lead", teams={team: TeamRole.LEAD})
        owner = await factory.user(org, Role.MEMBER, name="Owner", teams={team: TeamRole.MEMBER})
        quiet = await factory.user(org, Role.MEMBER, name="Quiet", teams={team: TeamRole.MEMBER})
        quiet.reminder_cadence = ReminderCadence.OFF
        # Ends on 15 October: the clock starts after that, so END is due; its KRs are not reminded.
        ending = await factory.cycle(org, starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 10, 15))
        ending_objective = await factory.objective(ending, team)
        await factory.key_result(ending_objective, owner_id=owner.id)
        cycle = await factory.cycle(org, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 12, 31))
        objective = await factory.objective(cycle, team, title="Grow")
        overdue = await factory.key_result(
            objective, title="Signups", owner_id=owner.id, tracking_frequency=TrackingFrequency.WEEKLY
        )
        behind = await factory.key_result(objective, title="Revenue", start=0, target=100)
        await factory.check_in(behind, cycle, lead, 1.0, dt.datetime(2026, 10, 19, 9, tzinfo=dt.UTC))
        quiet_kr = await factory.key_result(objective, title="Churn", owner_id=quiet.id)
        reviewing = await factory.cycle(
            org, phase=CyclePhase.REVIEWING, starts_on=dt.date(2026, 4, 1), ends_on=dt.date(2026, 6, 30)
        )
        await factory.objective(reviewing, team)
        built = World(
            org_id=org.id,
            lead_id=lead.id,
            owner_id=owner.id,
            quiet_id=quiet.id,
            overdue_kr_id=overdue.id,
            behind_kr_id=behind.id,
            quiet_kr_id=quiet_kr.id,
            ending_cycle_id=ending.id,
            reviewing_cycle_id=reviewing.id,
        )
    yield built
    await drop_organization(database, built.org_id)


@pytest.fixture
async def two_schedulers(database_url: str) -> AsyncIterator[tuple[Scheduler, Scheduler, FakeClock]]:
    clock = FakeClock(dt.datetime(2026, 10, 20, 8, tzinfo=dt.UTC))
    first, second = Database(database_url), Database(database_url)
    yield Scheduler(first, clock=clock, name="one"), Scheduler(second, clock=clock, name="two"), clock
    await first.dispose()
    await second.dispose()


async def notifications(database: Database, org_id: int) -> Counter[tuple[str, int, str | None, int | None]]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(
                models.Notification.kind,
                models.Notification.user_id,
                models.Notification.subject_type,
                models.Notification.subject_id,
            ).where(models.Notification.organization_id == org_id)
        )
        return Counter(rows.tuples().all())


async def race(a: Scheduler, b: Scheduler, rounds: int = 3) -> None:
    for _ in range(rounds):
        await asyncio.gather(a.tick(), b.tick())


async def test_two_schedulers_fire_each_reminder_once(
    database: Database, world: World, two_schedulers: tuple[Scheduler, Scheduler, FakeClock]
) -> None:
    one, two, clock = two_schedulers
    await race(one, two)

    sent = await notifications(database, world.org_id)
    assert sent == Counter(
        {
            ("check_in_reminder", world.owner_id, "KeyResult", world.overdue_kr_id): 1,
            ("at_risk_alert", world.lead_id, "KeyResult", world.behind_kr_id): 1,
            # The reviewing cycle and the one the scheduler just ended each remind the team lead once.
            ("review_reminder", world.lead_id, "Cycle", world.reviewing_cycle_id): 1,
            ("review_reminder", world.lead_id, "Cycle", world.ending_cycle_id): 1,
        }
    )
    async with database.transaction(write=False) as session:
        ended = await session.get(models.Cycle, world.ending_cycle_id)
        assert ended is not None
        assert ended.phase == CyclePhase.REVIEWING
        end_events = await session.scalar(
            select(func.count()).where(
                models.Event.kind == "cycle.end", models.Event.subject_id == world.ending_cycle_id
            )
        )
        assert end_events == 1
        org = await session.get(models.Organization, world.org_id)
        assert org is not None
        assert org.data_version == 1, "the end bumps the figures' version once"
        open_jobs = await session.scalar(
            select(func.count()).where(
                models.Job.organization_id == world.org_id,
                models.Job.done_at.is_(None),
                models.Job.run_at <= clock.now(),
            )
        )
        assert open_jobs == 0

    # A week later the still-overdue key result is reminded again (weekly cadence); the alert is not repeated.
    clock.advance(days=7)
    await race(one, two)
    sent = await notifications(database, world.org_id)
    assert sent[("check_in_reminder", world.owner_id, "KeyResult", world.overdue_kr_id)] == 2
    assert sent[("at_risk_alert", world.lead_id, "KeyResult", world.behind_kr_id)] == 1
    assert not any(user == world.quiet_id for _, user, _, _ in sent)


async def test_a_job_whose_lease_ran_out_is_run_by_the_next_scheduler_only(
    database: Database, world: World, two_schedulers: tuple[Scheduler, Scheduler, FakeClock]
) -> None:
    slow, fast, clock = two_schedulers
    async with database.transaction() as session:
        from workflow.services import reminders

        await reminders.plan_jobs(session, clock.now())
    held = await slow.claim(clock.now())
    assert held, "the first scheduler should have claimed the due jobs"
    assert await fast.claim(clock.now()) == [], "claimed jobs are not claimed twice"

    clock.advance(minutes=10)  # past the lease: the slow scheduler is presumed dead
    report = await fast.tick()
    assert report.done >= len(held)
    # The slow one wakes up and tries to finish what it held: every booking is refused.
    assert [await slow.run(job, clock.now()) for job in held] == [False] * len(held)
    sent = await notifications(database, world.org_id)
    assert sent[("check_in_reminder", world.owner_id, "KeyResult", world.overdue_kr_id)] == 1
    assert all(count == 1 for count in sent.values())


async def test_stopping_releases_claims_for_other_processes(
    database: Database, world: World, two_schedulers: tuple[Scheduler, Scheduler, FakeClock]
) -> None:
    leaving, staying, clock = two_schedulers
    async with database.transaction() as session:
        from workflow.services import reminders

        await reminders.plan_jobs(session, clock.now())
    held = await leaving.claim(clock.now())
    assert held
    assert await leaving.release_claims() == len(held)
    # No lease to wait out: the other scheduler takes them straight away.
    taken = await staying.claim(clock.now())
    assert {job.id for job in taken} >= {job.id for job in held}
    await staying.release_claims()


async def test_runs_in_the_background_and_stops_gracefully(database: Database, world: World) -> None:
    clock = FakeClock(dt.datetime(2026, 10, 20, 8, tzinfo=dt.UTC))
    scheduler = Scheduler(database, clock=clock, name="background", interval=3600)
    scheduler.start()
    for _ in range(200):  # the first tick runs at once; wait for its effects, not for time
        if (await notifications(database, world.org_id)).get(
            ("check_in_reminder", world.owner_id, "KeyResult", world.overdue_kr_id)
        ):
            break
        await asyncio.sleep(0.01)
    await scheduler.stop()
    async with database.transaction(write=False) as session:
        still_claimed = await session.scalar(
            select(func.count()).where(models.Job.claimed_by == "background", models.Job.done_at.is_(None))
        )
    assert still_claimed == 0
    assert (await notifications(database, world.org_id))[
        ("check_in_reminder", world.owner_id, "KeyResult", world.overdue_kr_id)
    ] == 1


async def test_the_server_runs_the_scheduler_and_releases_its_claims_on_shutdown(
    settings: Settings, database: Database, world: World
) -> None:
    from dataclasses import replace

    from server.app import create_app
    from tests.server.loopback import serve

    app = create_app(replace(settings, scheduler_enabled=True, scheduler_interval=3600), database)
    async with serve(app, lifespan="on"):
        scheduler = app.state.scheduler
        assert isinstance(scheduler, Scheduler)
        for _ in range(500):  # the first tick runs at start-up; wait for its effect
            async with database.transaction() as session:
                done = await session.scalar(
                    select(func.count()).where(
                        models.Job.organization_id == world.org_id, models.Job.done_at.is_not(None)
                    )
                )
            if done:
                break
            await asyncio.sleep(0.01)
        assert done
    # uvicorn's shutdown ran the lifespan exit: the scheduler stopped and holds nothing.
    async with database.transaction(write=False) as session:
        held = await session.scalar(select(func.count()).where(models.Job.claimed_by == scheduler.name))
    assert held == 0
