"""Keeping OKRs alive between planning and review (issue 8).

The scheduler calls `plan_jobs` on every tick: it looks at the state of every organization and
plans one job per thing that must happen, keyed so that it exists once however often (and by
however many processes) it is planned. Claimed jobs then run through `run_job`, once each.

- a check-in reminder when a key result's next check-in is overdue (by its tracking frequency),
  at most once per person and key result per cadence period (organization default, user override);
- an at-risk alert when a key result's health is AT_RISK or BEHIND, once per key result and level;
- a review reminder when a cycle enters REVIEWING (again after a reopen);
- the cycle's END once its end date has passed, fired through the cycle state machine.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.computation import progress as figures
from workflow.enums import CycleEvent, CyclePhase, Health, ObjectiveStatus, ReminderCadence, TeamRole
from workflow.services import events, webhooks
from workflow.services.jobs import PlannedJob, plan

CHECK_IN_REMINDER = "reminder.check_in"
REVIEW_REMINDER = "reminder.review"
AT_RISK_ALERT = "alert.at_risk"
CYCLE_END = "cycle.end"

CADENCE_DAYS = {ReminderCadence.WEEKLY: 7, ReminderCadence.BIWEEKLY: 14, ReminderCadence.MONTHLY: 30}
ALERT_HEALTH = (Health.AT_RISK, Health.BEHIND)
# Figures of objectives in these states still move; completed and cancelled ones are left alone.
LIVE = (ObjectiveStatus.ACTIVE,)


def local_date(now: dt.datetime, time_zone: str) -> dt.date:
    """Dates are the organization's: a reminder is due on its calendar day, not UTC's."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def end_of_day(day: dt.date, time_zone: str) -> dt.datetime:
    """The instant a local calendar day is over (its next midnight), in UTC."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)


def effective_cadence(org: models.Organization, user_cadence: str | None) -> ReminderCadence:
    return ReminderCadence(user_cadence or org.reminder_cadence)


async def _team_leads(session: AsyncSession, team_ids: Iterable[int]) -> dict[int, list[int]]:
    wanted = set(team_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(models.TeamMember.team_id, models.TeamMember.user_id)
        .where(models.TeamMember.team_id.in_(wanted), models.TeamMember.role == TeamRole.LEAD)
        .order_by(models.TeamMember.id)
    )
    leads: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in rows.tuples():
        leads[team_id].append(user_id)
    return leads


async def _cadences(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str | None]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = await session.execute(select(models.User.id, models.User.reminder_cadence).where(models.User.id.in_(wanted)))
    return dict(rows.tuples().all())


def _objective_people(objective: models.Objective, leads: dict[int, list[int]]) -> list[int]:
    people = [objective.owner_user_id] if objective.owner_user_id else []
    if objective.owner_team_id is not None:
        people.extend(leads.get(objective.owner_team_id, []))
    return list(dict.fromkeys(people))


async def plan_jobs(session: AsyncSession, now: dt.datetime) -> int:
    """Plan every reminder, alert and cycle end that is due or scheduled; returns how many were new."""
    planned: list[PlannedJob] = []
    planned.extend(await _plan_key_result_jobs(session, now))
    planned.extend(await _plan_cycle_jobs(session, now))
    return await plan(session, planned)


async def _plan_key_result_jobs(session: AsyncSession, now: dt.datetime) -> list[PlannedJob]:
    rows = (
        await session.execute(
            select(models.KeyResult, models.Objective, models.Cycle, models.Organization)
            .join(models.Objective, models.Objective.id == models.KeyResult.objective_id)
            .join(models.Cycle, models.Cycle.id == models.Objective.cycle_id)
            .join(models.Organization, models.Organization.id == models.Cycle.organization_id)
            .where(
                models.Cycle.phase == CyclePhase.ACTIVE,
                models.Objective.status.in_(LIVE),
                models.KeyResult.removed.is_(False),
            )
            .order_by(models.KeyResult.id)
        )
    ).tuples()
    rows_list = list(rows)
    leads = await _team_leads(session, (o.owner_team_id for _, o, _, _ in rows_list if o.owner_team_id))
    people_of = {
        kr.id: ([kr.owner_id] if kr.owner_id else []) or _objective_people(objective, leads)
        for kr, objective, _, _ in rows_list
    }
    cadences = await _cadences(session, (p for people in people_of.values() for p in people))

    jobs: list[PlannedJob] = []
    for kr, objective, cycle, org in rows_list:
        today = local_date(now, org.time_zone)
        if not cycle.starts_on <= today <= cycle.ends_on:
            continue  # past its end date the cycle is about to END: review, not check-ins, comes next
        due = figures.next_check_in_due(kr, cycle)
        if today > due:
            for user_id in people_of[kr.id]:
                cadence = effective_cadence(org, cadences.get(user_id))
                if cadence == ReminderCadence.OFF:
                    continue
                window = today.toordinal() // CADENCE_DAYS[cadence]
                jobs.append(
                    PlannedJob(
                        kind=CHECK_IN_REMINDER,
                        key=f"check-in:{kr.id}:{user_id}:{cadence}:{window}",
                        run_at=now,
                        organization_id=org.id,
                        payload={"key_result_id": kr.id, "user_id": user_id, "due": due.isoformat()},
                    )
                )
        health = figures.health(figures.progress(kr), figures.expected_progress(cycle, today), kr.checkin_count > 0)
        if health in ALERT_HEALTH:
            recipients = list(
                dict.fromkeys([*([kr.owner_id] if kr.owner_id else []), *_objective_people(objective, leads)])
            )
            jobs.append(
                PlannedJob(
                    kind=AT_RISK_ALERT,
                    key=f"at-risk:{kr.id}:{health}",
                    run_at=now,
                    organization_id=org.id,
                    payload={"key_result_id": kr.id, "health": str(health), "user_ids": recipients},
                )
            )
    return jobs


async def _plan_cycle_jobs(session: AsyncSession, now: dt.datetime) -> list[PlannedJob]:
    rows = (
        await session.execute(
            select(models.Cycle, models.Organization)
            .join(models.Organization, models.Organization.id == models.Cycle.organization_id)
            .where(models.Cycle.phase.in_((CyclePhase.ACTIVE, CyclePhase.REVIEWING)))
            .order_by(models.Cycle.id)
        )
    ).tuples()
    jobs: list[PlannedJob] = []
    for cycle, org in rows:
        if cycle.phase == CyclePhase.ACTIVE:
            # Planned ahead with its run time: the end date is inclusive, so END fires once it is over.
            jobs.append(
                PlannedJob(
                    kind=CYCLE_END,
                    key=f"cycle-end:{cycle.id}:{cycle.ends_on.isoformat()}",
                    run_at=end_of_day(cycle.ends_on, org.time_zone),
                    organization_id=org.id,
                    payload={"cycle_id": cycle.id},
                )
            )
        else:
            # The version moves with every transition, so a reopened cycle is reminded again.
            jobs.append(
                PlannedJob(
                    kind=REVIEW_REMINDER,
                    key=f"review:{cycle.id}:v{cycle.version}",
                    run_at=now,
                    organization_id=org.id,
                    payload={"cycle_id": cycle.id},
                )
            )
    return jobs


JobHandler = Callable[[AsyncSession, models.Job, dt.datetime], Awaitable[None]]


async def run_job(session: AsyncSession, job: models.Job, now: dt.datetime) -> None:
    """Do what a claimed job says. Conditions are checked again: the world may have moved since planning."""
    handler = HANDLERS.get(job.kind)
    if handler is None:
        raise LookupError(f"no handler for job kind {job.kind!r}")
    await handler(session, job, now)


async def _load_key_result(
    session: AsyncSession, key_result_id: int
) -> tuple[models.KeyResult, models.Objective, models.Cycle, models.Organization] | None:
    row = (
        await session.execute(
            select(models.KeyResult, models.Objective, models.Cycle, models.Organization)
            .join(models.Objective, models.Objective.id == models.KeyResult.objective_id)
            .join(models.Cycle, models.Cycle.id == models.Objective.cycle_id)
            .join(models.Organization, models.Organization.id == models.Cycle.organization_id)
            .where(models.KeyResult.id == key_result_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


async def _check_in_reminder(session: AsyncSession, job: models.Job, now: dt.datetime) -> None:
    loaded = await _load_key_result(session, int(job.payload["key_result_id"]))
    if loaded is None:
        return
    kr, objective, cycle, org = loaded
    due = figures.next_check_in_due(kr, cycle)
    today = local_date(now, org.time_zone)
    if kr.removed or cycle.phase != CyclePhase.ACTIVE or today <= due or today > cycle.ends_on:
        return  # someone checked in (or the cycle moved on) between planning and running
    message = f"Time for a check-in on “{kr.title}” (objective “{objective.title}”): it was due {due.isoformat()}."
    await events.notify(
        session,
        organization_id=org.id,
        user_ids=[int(job.payload["user_id"])],
        kind="check_in_reminder",
        message=message,
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
    )
    await webhooks.enqueue(
        session,
        organization_id=org.id,
        kind=CHECK_IN_REMINDER,
        subject=("KeyResult", kr.id),
        objective=(objective.id, objective.title),
        text=message,
        extra={"due": due.isoformat()},
    )


async def _at_risk_alert(session: AsyncSession, job: models.Job, now: dt.datetime) -> None:
    loaded = await _load_key_result(session, int(job.payload["key_result_id"]))
    if loaded is None:
        return
    kr, objective, cycle, org = loaded
    health = figures.health(
        figures.progress(kr), figures.expected_progress(cycle, local_date(now, org.time_zone)), kr.checkin_count > 0
    )
    if kr.removed or health != job.payload["health"]:
        return
    label = "at risk" if health == Health.AT_RISK else "behind"
    message = f"“{kr.title}” (objective “{objective.title}”) is {label}: progress {figures.progress(kr):.0%}."
    await events.notify(
        session,
        organization_id=org.id,
        user_ids=[int(u) for u in job.payload.get("user_ids", [])],
        kind="at_risk_alert",
        message=message,
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
    )
    await webhooks.enqueue(
        session,
        organization_id=org.id,
        kind=AT_RISK_ALERT,
        subject=("KeyResult", kr.id),
        objective=(objective.id, objective.title),
        text=message,
        extra={"health": str(health)},
    )


async def _review_reminder(session: AsyncSession, job: models.Job, now: dt.datetime) -> None:
    cycle = await session.get(models.Cycle, int(job.payload["cycle_id"]))
    if cycle is None or cycle.phase != CyclePhase.REVIEWING:
        return
    org = await session.get(models.Organization, cycle.organization_id)
    assert org is not None
    objectives = list(
        (
            await session.execute(
                select(models.Objective)
                .where(models.Objective.cycle_id == cycle.id, models.Objective.status == ObjectiveStatus.ACTIVE)
                .order_by(models.Objective.id)
            )
        ).scalars()
    )
    leads = await _team_leads(session, (o.owner_team_id for o in objectives if o.owner_team_id))
    people = list(dict.fromkeys(p for o in objectives for p in _objective_people(o, leads)))
    cadences = await _cadences(session, people)
    wanted = [p for p in people if effective_cadence(org, cadences.get(p)) != ReminderCadence.OFF]
    message = f"Cycle “{cycle.name}” is in review: score your key results and write your reflections."
    await events.notify(
        session,
        organization_id=org.id,
        user_ids=wanted,
        kind="review_reminder",
        message=message,
        subject_type="Cycle",
        subject_id=cycle.id,
    )
    await webhooks.enqueue(
        session, organization_id=org.id, kind=REVIEW_REMINDER, subject=("Cycle", cycle.id), text=message
    )


CycleEnder = Callable[[AsyncSession, models.Cycle, dt.datetime], Awaitable[None]]


async def _end_through_machine(session: AsyncSession, cycle: models.Cycle, now: dt.datetime) -> None:
    """Fire END through the cycle service's system entry point when it has one, else the machine itself.

    Looked up at run time: the cycle service and machine are another area's work in progress, and the
    scheduler must keep ending cycles whichever of them has landed.
    """
    cycles: Any = _optional_module("workflow.services.cycles")
    fire_scheduled = getattr(cycles, "end_cycle_by_schedule", None)
    if fire_scheduled is not None:
        await fire_scheduled(session, cycle, now)
        return
    machines: Any = _optional_module("workflow.machines")
    machine, fire = getattr(machines, "cycle_machine", None), getattr(machines, "fire", None)
    before = cycle.phase
    if machine is not None and fire is not None:
        cycle.phase = CyclePhase(
            fire(machine, cycle.phase, CycleEvent.END, what="cycle", ends_on_reached=True, by_admin=False)
        )
    else:
        cycle.phase = CyclePhase.REVIEWING
    cycle.version += 1
    await session.flush()
    await events.record_event(
        session,
        organization_id=cycle.organization_id,
        actor=None,
        kind="cycle.end",
        subject_type="Cycle",
        subject_id=cycle.id,
        cycle_id=cycle.id,
        version=cycle.version,
        changes=[events.change("phase", before, cycle.phase)],
        note="The end date passed.",
    )
    # Figures shown for the cycle change with its phase: cached trees are keyed by this version.
    await session.execute(
        update(models.Organization)
        .where(models.Organization.id == cycle.organization_id)
        .values(data_version=models.Organization.data_version + 1)
    )


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


async def _cycle_end(session: AsyncSession, job: models.Job, now: dt.datetime) -> None:
    cycle = (
        await session.execute(
            select(models.Cycle).where(models.Cycle.id == int(job.payload["cycle_id"])).with_for_update()
        )
    ).scalar_one_or_none()
    if cycle is None or cycle.phase != CyclePhase.ACTIVE:
        return  # an admin ended it by hand already
    org = await session.get(models.Organization, cycle.organization_id)
    assert org is not None
    if local_date(now, org.time_zone) <= cycle.ends_on:
        return  # the end date moved later since the job was planned; a new job carries the new date
    await _end_through_machine(session, cycle, now)


HANDLERS: dict[str, JobHandler] = {
    CHECK_IN_REMINDER: _check_in_reminder,
    AT_RISK_ALERT: _at_risk_alert,
    REVIEW_REMINDER: _review_reminder,
    CYCLE_END: _cycle_end,
}
