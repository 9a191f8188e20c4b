"""End-of-cycle review: scoring key results, completing objectives, publishing retrospectives."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import machines, models, permissions
from workflow.computation.scoring import objective_score
from workflow.enums import CyclePhase, ObjectiveEvent, ObjectiveStatus
from workflow.errors import DomainError, ErrorCode, Forbidden, ValidationFailed
from workflow.services.events import change, record_event
from workflow.services.key_results import load_key_result
from workflow.services.objectives import apply_status, check_team, guarded_update, load_cycle
from workflow.viewer import Viewer

REFLECTION_MAX = 10_000
PUBLISHABLE_PHASES = (CyclePhase.REVIEWING, CyclePhase.CLOSED)


async def score_key_result(
    session: AsyncSession, viewer: Viewer, kr_id: int, score: float, reflection: str | None
) -> models.KeyResult:
    kr, objective = await load_key_result(session, viewer, kr_id, lock=True)
    cycle = await load_cycle(session, viewer, objective.cycle_id)
    if cycle.phase != CyclePhase.REVIEWING or objective.status not in (
        ObjectiveStatus.ACTIVE,
        ObjectiveStatus.COMPLETED,
    ):
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            f"Key results are scored while their cycle is REVIEWING; it is {cycle.phase}.",
            "id",
        )
    if not permissions.may_score(viewer, objective, kr):
        raise Forbidden("The key result's owner scores it (without one, the owning team's leads), or an exec.")
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise ValidationFailed("A score is between 0.0 and 1.0.", "score")
    reflection = (reflection or "").strip() or None
    if reflection is not None and len(reflection) > REFLECTION_MAX:
        raise ValidationFailed(f"Keep the reflection under {REFLECTION_MAX} characters.", "reflection")
    before = (kr.score, kr.reflection)
    await guarded_update(session, kr, kr.version, {"score": score, "reflection": reflection}, "key result")
    await record_event(
        session,
        organization_id=kr.organization_id,
        actor=viewer,
        kind="key_result.scored",
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
        cycle_id=cycle.id,
        version=kr.version,
        changes=[change("keyResult.score", before[0], score), change("keyResult.reflection", before[1], reflection)],
    )
    await _complete_when_all_scored(session, viewer, objective)
    return kr


async def _complete_when_all_scored(session: AsyncSession, viewer: Viewer, objective: models.Objective) -> None:
    krs = list(
        (
            await session.execute(
                select(models.KeyResult).where(
                    models.KeyResult.objective_id == objective.id, models.KeyResult.removed.is_(False)
                )
            )
        ).scalars()
    )
    if any(kr.score is None for kr in krs):
        return
    score = objective_score(krs)
    if objective.status == ObjectiveStatus.ACTIVE:
        new_status = machines.fire(
            machines.objective_machine,
            objective.status,
            ObjectiveEvent.COMPLETE,
            what="objective",
            phase=CyclePhase.REVIEWING,
        )
        await apply_status(
            session,
            viewer,
            objective,
            ObjectiveEvent.COMPLETE,
            {"status": new_status, "score": score},
            note="Every key result is scored.",
        )
    elif objective.score != score:
        # A rescored key result of a completed objective moves the objective's score with it.
        before = objective.score
        await guarded_update(session, objective, objective.version, {"score": score}, "objective")
        await record_event(
            session,
            organization_id=objective.organization_id,
            actor=viewer,
            kind="objective.rescored",
            subject_type="Objective",
            subject_id=objective.id,
            objective_id=objective.id,
            cycle_id=objective.cycle_id,
            version=objective.version,
            changes=[change("score", before, score)],
        )


async def publish_retrospective(
    session: AsyncSession, viewer: Viewer, cycle_id: int, team_id: int
) -> models.Retrospective:
    """Makes a team's scores and reflections of a cycle visible to the whole organization."""
    cycle = await load_cycle(session, viewer, cycle_id, "cycleId")
    await check_team(session, viewer, team_id, "teamId")
    if not permissions.may_publish_retrospective(viewer, team_id):
        raise Forbidden("The team's leads or an exec publish its retrospective.", "teamId")
    if cycle.phase not in PUBLISHABLE_PHASES:
        raise DomainError(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            f"A retrospective is published once the cycle is REVIEWING or CLOSED; it is {cycle.phase}.",
            "cycleId",
        )
    retro = (
        await session.execute(
            select(models.Retrospective)
            .where(models.Retrospective.cycle_id == cycle.id, models.Retrospective.team_id == team_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if retro is None:
        retro = models.Retrospective(organization_id=viewer.organization_id, cycle_id=cycle.id, team_id=team_id)
        session.add(retro)
    elif retro.published:
        return retro
    retro.published = True
    retro.published_at = models.utcnow()
    retro.published_by_id = viewer.user_id
    await session.flush()
    await record_event(
        session,
        organization_id=viewer.organization_id,
        actor=viewer,
        kind="retrospective.published",
        subject_type="Retrospective",
        subject_id=retro.id,
        cycle_id=cycle.id,
        changes=[change("published", False, True)],
    )
    return retro
