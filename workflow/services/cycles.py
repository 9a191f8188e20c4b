"""Cycles: creation and the phase machine, with what each phase change does to the objectives."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import machines, models, permissions
from workflow.enums import CycleEvent, CycleKind, CyclePhase, ObjectiveEvent, ObjectiveStatus
from workflow.errors import DomainError, ErrorCode, Forbidden, ValidationFailed
from workflow.services.events import change, record_event
from workflow.services.objectives import apply_status, guarded_update, load_cycle
from workflow.viewer import Viewer

NAME_MAX = 200


async def create_cycle(
    session: AsyncSession,
    viewer: Viewer,
    *,
    name: str,
    kind: CycleKind,
    starts_on: dt.date,
    ends_on: dt.date,
    parent_id: int | None = None,
) -> models.Cycle:
    if not permissions.may_create_cycle(viewer):
        raise Forbidden("Only admins and execs create cycles.")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(f"A cycle needs a name of at most {NAME_MAX} characters.", "input.name")
    if ends_on <= starts_on:
        raise ValidationFailed("A cycle ends after it starts.", "input.endsOn")
    if parent_id is not None:
        parent = await load_cycle(session, viewer, parent_id, "input.parentId")
        if parent.starts_on > starts_on or parent.ends_on < ends_on:
            raise ValidationFailed("A cycle lies within its parent cycle's dates.", "input.parentId")
    if kind == CycleKind.QUARTER:
        overlapping = (
            await session.execute(
                select(models.Cycle.name).where(
                    models.Cycle.organization_id == viewer.organization_id,
                    models.Cycle.kind == CycleKind.QUARTER,
                    models.Cycle.starts_on <= ends_on,
                    models.Cycle.ends_on >= starts_on,
                )
            )
        ).first()
        if overlapping is not None:
            raise DomainError(ErrorCode.CYCLE_OVERLAP, f"The quarter overlaps {overlapping[0]!r}.", "input.startsOn")
    cycle = models.Cycle(
        organization_id=viewer.organization_id,
        name=name,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        parent_id=parent_id,
        phase=CyclePhase.PLANNING,
        version=1,
    )
    session.add(cycle)
    await session.flush()
    await record_event(
        session,
        organization_id=cycle.organization_id,
        actor=viewer,
        kind="cycle.created",
        subject_type="Cycle",
        subject_id=cycle.id,
        cycle_id=cycle.id,
        version=cycle.version,
        changes=[change("name", None, name), change("phase", None, cycle.phase)],
    )
    return cycle


async def _count(session: AsyncSession, stmt: Any) -> int:
    return int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())


def _objectives_in(cycle: models.Cycle, *statuses: ObjectiveStatus) -> Any:
    return select(models.Objective).where(
        models.Objective.cycle_id == cycle.id, models.Objective.status.in_([str(s) for s in statuses])
    )


async def _guard_facts(
    session: AsyncSession, viewer: Viewer | None, cycle: models.Cycle, event: CycleEvent, today: dt.date
) -> dict[str, Any]:
    """What the machine's guards need to decide, gathered with a count or two."""
    if event == CycleEvent.ACTIVATE:
        stmt = _objectives_in(cycle, ObjectiveStatus.DRAFT, ObjectiveStatus.IN_REVIEW)
        return {"objectives_in_negotiation": await _count(session, stmt)}
    if event == CycleEvent.END:
        return {"ends_on_reached": today >= cycle.ends_on, "by_admin": viewer is not None and viewer.is_admin}
    if event == CycleEvent.CLOSE:
        unscored = (
            select(models.KeyResult.id)
            .join(models.Objective, models.Objective.id == models.KeyResult.objective_id)
            .where(
                models.Objective.cycle_id == cycle.id,
                models.Objective.status.in_([ObjectiveStatus.ACTIVE, ObjectiveStatus.COMPLETED]),
                models.KeyResult.removed.is_(False),
                models.KeyResult.score.is_(None),
            )
        )
        return {
            "unscored_key_results": await _count(session, unscored),
            "incomplete_objectives": await _count(session, _objectives_in(cycle, ObjectiveStatus.ACTIVE)),
        }
    return {}


async def transition_cycle(
    session: AsyncSession,
    viewer: Viewer,
    cycle_id: int,
    event: CycleEvent,
    *,
    reason: str | None = None,
    force: bool = False,
    today: dt.date | None = None,
) -> models.Cycle:
    today = today or dt.datetime.now(dt.UTC).date()
    cycle = await load_cycle(session, viewer, cycle_id)
    if not machines.can_fire(machines.cycle_machine, cycle.phase, event):
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED, f"{event} is not possible for a cycle that is {cycle.phase}.", "event"
        )
    if not permissions.may_fire_cycle_event(viewer, event):
        raise Forbidden(
            "Only admins reopen cycles." if event == CycleEvent.REOPEN else "Only admins and execs steer the cycle."
        )
    facts = await _guard_facts(session, viewer, cycle, event, today)
    await _move(session, viewer, cycle, event, facts, reason=reason, force=force)
    return cycle


async def end_cycle_by_schedule(session: AsyncSession, cycle: models.Cycle, now: dt.datetime) -> None:
    """The scheduler's END once the end date has passed: the same machine and guard, the system as actor.

    The caller holds the cycle row locked and has checked the date in the organization's time zone.
    """
    await _move(session, None, cycle, CycleEvent.END, {"ends_on_reached": True}, reason="The end date passed.")


async def _move(
    session: AsyncSession,
    viewer: Viewer | None,
    cycle: models.Cycle,
    event: CycleEvent,
    facts: dict[str, Any],
    *,
    reason: str | None = None,
    force: bool = False,
) -> None:
    new_phase = machines.fire(
        machines.cycle_machine, cycle.phase, event, what="cycle", force=force, reason=reason, **facts
    )
    before = cycle.phase
    # The version guard makes two concurrent transitions of one cycle resolve to one.
    await guarded_update(session, cycle, cycle.version, {"phase": new_phase}, "cycle")
    note = (reason or "").strip()
    await record_event(
        session,
        organization_id=cycle.organization_id,
        actor=viewer,
        kind=f"cycle.{event.lower()}",
        subject_type="Cycle",
        subject_id=cycle.id,
        cycle_id=cycle.id,
        version=cycle.version,
        changes=[change("phase", before, new_phase), *([change("force", None, True)] if force else [])],
        note=note,
    )
    if event == CycleEvent.ACTIVATE:
        await _activate_objectives(session, viewer, cycle, note)
    await session.execute(
        update(models.Organization)
        .where(models.Organization.id == cycle.organization_id)
        .values(data_version=models.Organization.data_version + 1)
    )


async def _activate_objectives(session: AsyncSession, viewer: Viewer | None, cycle: models.Cycle, reason: str) -> None:
    """APPROVED objectives go live; any still in negotiation (only reachable forced) are cancelled."""
    rows = (
        await session.execute(
            _objectives_in(cycle, ObjectiveStatus.DRAFT, ObjectiveStatus.IN_REVIEW, ObjectiveStatus.APPROVED)
            .order_by(models.Objective.id)
            .with_for_update()
        )
    ).scalars()
    for objective in list(rows):
        if objective.status == ObjectiveStatus.APPROVED:
            event = machines.OBJECTIVE_ACTIVATE
            note = "The cycle was activated."
        else:
            event = ObjectiveEvent.CANCEL
            note = f"Cancelled by the forced activation of the cycle: {reason}"
        new_status = machines.fire(machines.objective_machine, objective.status, event, what="objective")
        await apply_status(session, viewer, objective, event, {"status": new_status}, note=note)
