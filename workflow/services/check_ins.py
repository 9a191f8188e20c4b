"""Recording check-ins: idempotent, O(1) on the key result's stored aggregates."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models, permissions
from workflow.computation.aggregates import FOLD_CHECK_IN, fold_check_in_params
from workflow.computation.progress import current_value
from workflow.enums import CyclePhase, ObjectiveStatus
from workflow.errors import DomainError, ErrorCode, Forbidden, NotFound, ValidationFailed
from workflow.services.events import change, record_event
from workflow.services.key_results import load_key_result_in_cycle
from workflow.viewer import Viewer

NOTE_MAX = 10_000
KEY_MAX = 200
AFTER_END_PHASES = (CyclePhase.REVIEWING, CyclePhase.CLOSED)


@dataclass
class CheckInDraft:
    key_result_id: int
    value: float
    note: str = ""
    confidence: float | None = None
    measured_at: dt.datetime | None = None
    idempotency_key: str | None = None


async def _by_key(session: AsyncSession, kr_id: int, key: str) -> models.CheckIn | None:
    return (
        await session.execute(
            select(models.CheckIn).where(models.CheckIn.key_result_id == kr_id, models.CheckIn.idempotency_key == key)
        )
    ).scalar_one_or_none()


def _validate(draft: CheckInDraft) -> None:
    if not math.isfinite(draft.value):
        raise ValidationFailed("Use a finite number.", "input.value")
    if draft.confidence is not None and not (0.0 <= draft.confidence <= 1.0):
        raise ValidationFailed("Confidence is between 0 and 1.", "input.confidence")
    if len(draft.note) > NOTE_MAX:
        raise ValidationFailed(f"Keep the note under {NOTE_MAX} characters.", "input.note")
    if draft.idempotency_key is not None and not (0 < len(draft.idempotency_key) <= KEY_MAX):
        raise ValidationFailed(f"An idempotency key has 1 to {KEY_MAX} characters.", "input.idempotencyKey")
    if draft.measured_at is not None and draft.measured_at.tzinfo is None:
        raise ValidationFailed("Give measuredAt with a time zone.", "input.measuredAt")


async def _insert_once(session: AsyncSession, check_in: models.CheckIn) -> models.CheckIn:
    """The check-in, or the one a concurrent retry with the same idempotency key committed first."""
    try:
        async with session.begin_nested():
            session.add(check_in)
            await session.flush()
    except IntegrityError:
        assert check_in.idempotency_key is not None
        seen = await _by_key(session, check_in.key_result_id, check_in.idempotency_key)
        if seen is None:
            raise
        return seen
    return check_in


async def record_check_in(
    session: AsyncSession, viewer: Viewer, draft: CheckInDraft
) -> tuple[models.CheckIn, models.KeyResult]:
    """The check-in and its key result. A key seen before returns the first check-in unchanged."""
    _validate(draft)
    # No lock up front: the aggregates are folded by one UPDATE (FOLD_CHECK_IN), which locks
    # the row only from there to the commit, so check-ins on one key result queue for that long alone.
    kr, objective, cycle = await load_key_result_in_cycle(
        session, viewer, draft.key_result_id, field_name="input.keyResultId"
    )
    if not permissions.may_check_in(viewer, objective, kr):
        raise Forbidden("The owning team, the owners and execs check in on this key result.")
    if draft.idempotency_key is not None:
        seen = await _by_key(session, kr.id, draft.idempotency_key)
        if seen is not None:
            return seen, kr
    if objective.status not in (ObjectiveStatus.ACTIVE, ObjectiveStatus.COMPLETED) or cycle.phase not in (
        CyclePhase.ACTIVE,
        *AFTER_END_PHASES,
    ):
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            f"Check-ins are recorded on active key results; this objective is {objective.status} "
            f"in a {cycle.phase} cycle.",
            "input.keyResultId",
        )
    measured_at = draft.measured_at or models.utcnow()
    after_end = cycle.phase in AFTER_END_PHASES or measured_at.date() > cycle.ends_on
    check_in = models.CheckIn(
        organization_id=kr.organization_id,
        key_result_id=kr.id,
        value=draft.value,
        note=draft.note.strip(),
        confidence=draft.confidence,
        measured_at=measured_at,
        author_id=viewer.user_id,
        idempotency_key=draft.idempotency_key,
        after_cycle_end=after_end,
    )
    if draft.idempotency_key is None:
        session.add(check_in)
        await session.flush()
    else:
        stored = await _insert_once(session, check_in)
        if stored is not check_in:
            return stored, kr
    before = current_value(kr)
    if not after_end:
        # Metrics review goes on after the quarter, but late numbers do not rewrite its figures.
        folded = await session.execute(
            FOLD_CHECK_IN,
            fold_check_in_params(cycle, kr.id, draft.value, measured_at),
            execution_options={"populate_existing": True},
        )
        if folded.scalar_one_or_none() is None:
            # Removed by a proposal applied since it was read: the check-in goes with the request.
            raise NotFound("key result", "input.keyResultId")
    await session.execute(
        update(models.Organization)
        .where(models.Organization.id == kr.organization_id)
        .values(data_version=models.Organization.data_version + 1)
    )
    await record_event(
        session,
        organization_id=kr.organization_id,
        actor=viewer,
        kind="key_result.checked_in",
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
        cycle_id=cycle.id,
        version=kr.version,
        changes=[change("keyResult.currentValue", before, current_value(kr))],
        note="after the cycle ended" if after_end else "",
    )
    return check_in, kr
