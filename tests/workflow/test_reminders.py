"""What the scheduler plans and what a job does when it runs: cadence, due dates, alerts, time zones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import ReminderCadence, Role, TeamRole, TrackingFrequency
from workflow.services import jobs, reminders, webhooks

OCT_20 = dt.datetime(2026, 10, 20, 8, tzinfo=dt.UTC)


async def planned(session: AsyncSession, org: models.Organization) -> dict[str, models.Job]:
    rows = await session.execute(select(models.Job).where(models.Job.organization_id == org.id))
    return {job.key: job for job in rows.scalars()}


async def run_all(session: AsyncSession, org: models.Organization, now: dt.datetime) -> None:
    for job in (await planned(session, org)).values():
        if job.done_at is None and job.run_at <= now:
            await reminders.run_job(session, job, now)
            job.done_at = now
    await session.flush()


async def notifications(session: AsyncSession, org: models.Organization) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(models.Notification.kind, models.Notification.user_id)
        .where(models.Notification.organization_id == org.id)
        .order_by(models.Notification.id)
    )
    return [tuple(r) for r in rows.tuples()]  # type: ignore[misc]


async def test_cadence_comes_from_the_user_else_the_organization(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    org.reminder_cadence = ReminderCadence.MONTHLY
    team = await factory.team(org)
    monthly = await factory.user(org, teams={team: TeamRole.MEMBER})
    weekly = await factory.user(org, teams={team: TeamRole.MEMBER})
    weekly.reminder_cadence = ReminderCadence.WEEKLY
    silent = await factory.user(org, teams={team: TeamRole.MEMBER})
    silent.reminder_cadence = ReminderCadence.OFF
    cycle = await factory.cycle(org)
    objective = await factory.objective(cycle, team)
    krs = {
        user.id: await factory.key_result(objective, owner_id=user.id, tracking_frequency=TrackingFrequency.WEEKLY)
        for user in (monthly, weekly, silent)
    }
    await session.flush()

    await reminders.plan_jobs(session, OCT_20)
    keys = set(await planned(session, org))
    week, month = OCT_20.date().toordinal() // 7, OCT_20.date().toordinal() // 30
    assert keys == {
        f"check-in:{krs[monthly.id].id}:{monthly.id}:MONTHLY:{month}",
        f"check-in:{krs[weekly.id].id}:{weekly.id}:WEEKLY:{week}",
        f"cycle-end:{cycle.id}:{cycle.ends_on.isoformat()}",
    }
    # Planning again changes nothing: each key exists once.
    assert await reminders.plan_jobs(session, OCT_20 + dt.timedelta(hours=1)) == 0


async def test_nothing_is_due_before_the_next_check_in_or_after_the_end_date(
    factory: Factory, session: AsyncSession
) -> None:
    org = await factory.organization()
    owner = await factory.user(org)
    cycle = await factory.cycle(org, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 10, 31))
    kr = await factory.key_result(
        await factory.objective(cycle, owner_user=owner), tracking_frequency=TrackingFrequency.MONTHLY
    )
    await factory.check_in(kr, cycle, owner, 50.0, dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
    await reminders.plan_jobs(session, OCT_20)
    assert not [k for k in await planned(session, org) if k.startswith("check-in")], "due on 1 November"
    await reminders.plan_jobs(session, dt.datetime(2026, 11, 3, tzinfo=dt.UTC))
    assert not [k for k in await planned(session, org) if k.startswith("check-in")], "the cycle has ended"


async def test_a_reminder_planned_before_a_check_in_does_nothing_after_it(
    factory: Factory, session: AsyncSession
) -> None:
    org = await factory.organization()
    owner = await factory.user(org)
    cycle = await factory.cycle(org)
    kr = await factory.key_result(await factory.objective(cycle, owner_user=owner))
    await reminders.plan_jobs(session, OCT_20)
    await factory.check_in(kr, cycle, owner, 10.0, OCT_20 - dt.timedelta(hours=1))
    await run_all(session, org, OCT_20)
    assert await notifications(session, org) == []


async def test_alerts_fire_once_per_health_level(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 12, 30))
    kr = await factory.key_result(await factory.objective(cycle, team), start=0, target=100)
    await factory.check_in(kr, cycle, exec_, 1.0, dt.datetime(2026, 10, 19, tzinfo=dt.UTC))

    await reminders.plan_jobs(session, OCT_20)
    await run_all(session, org, OCT_20)
    await reminders.plan_jobs(session, OCT_20 + dt.timedelta(days=1))
    await run_all(session, org, OCT_20 + dt.timedelta(days=1))
    assert await notifications(session, org) == [("at_risk_alert", lead.id)]

    # Progress of 29% against 40% expected (6 November) is AT_RISK: a new level, a new alert.
    nov_6 = dt.datetime(2026, 11, 6, 8, tzinfo=dt.UTC)
    await factory.check_in(kr, cycle, exec_, 29.0, nov_6 - dt.timedelta(hours=2))
    await reminders.plan_jobs(session, nov_6)
    await run_all(session, org, nov_6)
    kinds = [kind for kind, _ in await notifications(session, org)]
    assert kinds == ["at_risk_alert", "at_risk_alert"]
    assert f"at-risk:{kr.id}:AT_RISK" in await planned(session, org)


async def test_dates_are_the_organizations(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    org.time_zone = "Pacific/Auckland"
    cycle = await factory.cycle(org, ends_on=dt.date(2026, 12, 31))
    await reminders.plan_jobs(session, OCT_20)
    end = (await planned(session, org))[f"cycle-end:{cycle.id}:2026-12-31"]
    # Midnight at the end of 31 December in Auckland (UTC+13 in summer) is 11:00 UTC that day.
    assert end.run_at == dt.datetime(2026, 12, 31, 11, tzinfo=dt.UTC)
    assert reminders.local_date(dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC), "Pacific/Auckland") == dt.date(2027, 1, 1)
    assert reminders.local_date(OCT_20, "Not/AZone") == OCT_20.date()


async def test_reminders_go_to_webhooks_with_slack_text(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    owner = await factory.user(org)
    cycle = await factory.cycle(org)
    await factory.key_result(await factory.objective(cycle, owner_user=owner, title="Happier users"), title="NPS")
    session.add(
        models.Webhook(organization_id=org.id, url="https://h.example.test", secret="s", event_kinds=["reminder"])
    )
    await session.flush()
    await reminders.plan_jobs(session, OCT_20)
    await run_all(session, org, OCT_20)
    deliveries = list(
        (
            await session.execute(
                select(models.WebhookDelivery).where(models.WebhookDelivery.organization_id == org.id)
            )
        ).scalars()
    )
    assert [d.event_kind for d in deliveries] == [reminders.CHECK_IN_REMINDER]
    body = deliveries[0].payload
    assert "NPS" in body["text"]
    assert "Happier users" in body["text"]
    assert body["data"] == {"due": "2026-10-08"}
    jobs = await planned(session, org)
    assert f"webhook-delivery:{deliveries[0].id}" in jobs
    assert jobs[f"webhook-delivery:{deliveries[0].id}"].kind == webhooks.DELIVERY_JOB


async def test_finished_jobs_are_forgotten_after_a_year_and_more(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    old = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    session.add_all(
        [
            models.Job(organization_id=org.id, kind="x", key=f"old-{org.id}", run_at=old, done_at=old),
            models.Job(organization_id=org.id, kind="x", key=f"open-{org.id}", run_at=old),
            models.Job(organization_id=org.id, kind="x", key=f"recent-{org.id}", run_at=OCT_20, done_at=OCT_20),
        ]
    )
    await session.flush()
    await jobs.prune(session, OCT_20 + dt.timedelta(days=30))
    assert set(await planned(session, org)) == {f"open-{org.id}", f"recent-{org.id}"}
