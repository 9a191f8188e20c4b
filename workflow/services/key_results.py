"""Key results of draft objectives: add, update (with the version read), soft remove."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models, permissions
from workflow.enums import CalculationType, Direction, Rollup, TrackingFrequency
from workflow.errors import Forbidden, NotFound, ValidationFailed, VersionConflict
from workflow.policies import objective_visible, visible_objective_ids
from workflow.services.events import change, record_event
from workflow.services.objectives import (
    camel,
    check_member,
    clean_title,
    clean_weight,
    ensure_editable_in_place,
    guarded_update,
    load_objective,
)
from workflow.viewer import Viewer


@dataclass
class KeyResultDraft:
    title: str
    metric_name: str
    unit: str
    start_value: float
    direction: Direction
    calculation_type: CalculationType
    tracking_frequency: TrackingFrequency
    rollup: Rollup
    target_value: float | None = None
    lift_value: float | None = None
    counter_metric: bool = False
    weight: float = 1.0
    owner_id: int | None = None


KEY_RESULT_PATCH_FIELDS = tuple(f for f in KeyResultDraft.__dataclass_fields__)


def _finite(value: float, field_name: str) -> float:
    if not math.isfinite(value):
        raise ValidationFailed("Use a finite number.", field_name)
    return value


def resolve_target(fields: Mapping[str, Any], prefix: str) -> float:
    """Lift types derive the target from start and lift (DESIGN §1); an absolute target needs one."""
    kind = CalculationType(fields["calculation_type"])
    start = _finite(fields["start_value"], prefix + "startValue")
    if kind == CalculationType.ABSOLUTE_TARGET:
        if fields.get("target_value") is None:
            raise ValidationFailed("An absolute target needs a target value.", prefix + "targetValue")
        return _finite(fields["target_value"], prefix + "targetValue")
    lift = fields.get("lift_value")
    if lift is None:
        raise ValidationFailed(f"{kind} needs a lift value.", prefix + "liftValue")
    lift = _finite(lift, prefix + "liftValue")
    sign = 1.0 if fields["direction"] == Direction.INCREASE else -1.0
    if kind == CalculationType.PERCENTAGE_LIFT:
        return start * (1 + sign * lift / 100)
    return start + sign * lift


async def clean_key_result(
    session: AsyncSession, viewer: Viewer, fields: Mapping[str, Any], prefix: str = ""
) -> dict[str, Any]:
    """A complete, validated set of key result columns."""
    values = dict(fields)
    values["title"] = clean_title(values["title"], prefix + "title")
    values["metric_name"] = (values.get("metric_name") or "").strip()
    values["unit"] = (values.get("unit") or "").strip()
    values["weight"] = clean_weight(values.get("weight") or 1.0, prefix + "weight")
    values["counter_metric"] = bool(values.get("counter_metric"))
    values["target_value"] = resolve_target(values, prefix)
    if values.get("owner_id") is not None:
        await check_member(session, viewer, values["owner_id"], prefix + "ownerId")
    return values


async def insert_key_result(
    session: AsyncSession,
    viewer: Viewer,
    objective: models.Objective,
    draft: KeyResultDraft,
    position: int,
    prefix: str = "",
) -> models.KeyResult:
    values = await clean_key_result(session, viewer, asdict(draft), prefix)
    kr = models.KeyResult(
        organization_id=objective.organization_id, objective_id=objective.id, position=position, version=1, **values
    )
    session.add(kr)
    await session.flush()
    return kr


async def next_position(session: AsyncSession, objective_id: int) -> int:
    highest = (
        await session.execute(
            select(func.max(models.KeyResult.position)).where(models.KeyResult.objective_id == objective_id)
        )
    ).scalar_one()
    return 0 if highest is None else highest + 1


async def load_key_result(
    session: AsyncSession, viewer: Viewer, kr_id: int, *, lock: bool = False, field_name: str = "id"
) -> tuple[models.KeyResult, models.Objective]:
    """A live key result of an objective the viewer can see, with that objective."""
    stmt = (
        select(models.KeyResult)
        .where(
            models.KeyResult.id == kr_id,
            models.KeyResult.removed.is_(False),
            models.KeyResult.objective_id.in_(visible_objective_ids(viewer)),
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=models.KeyResult)
    kr = (await session.execute(stmt)).scalar_one_or_none()
    if kr is None:
        raise NotFound("key result", field_name)
    return kr, await load_objective(session, viewer, kr.objective_id)


async def load_key_result_in_cycle(
    session: AsyncSession, viewer: Viewer, kr_id: int, *, field_name: str = "id"
) -> tuple[models.KeyResult, models.Objective, models.Cycle]:
    """`load_key_result` and its objective's cycle in one statement (check-ins: the hot write path)."""
    row = (
        await session.execute(
            select(models.KeyResult, models.Objective, models.Cycle)
            .join(models.Objective, models.Objective.id == models.KeyResult.objective_id)
            .join(models.Cycle, models.Cycle.id == models.Objective.cycle_id)
            .where(
                models.KeyResult.id == kr_id,
                models.KeyResult.removed.is_(False),
                objective_visible(viewer),
                models.Cycle.organization_id == viewer.organization_id,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFound("key result", field_name)
    kr, objective, cycle = row
    return kr, objective, cycle


async def add_key_result(
    session: AsyncSession, viewer: Viewer, objective_id: int, draft: KeyResultDraft
) -> models.KeyResult:
    objective = await load_objective(session, viewer, objective_id, field_name="objectiveId")
    ensure_editable_in_place(objective)
    if not permissions.may_edit_draft(viewer, objective):
        raise Forbidden("Only the author, the owners, the owning team's leads and execs edit this draft.")
    kr = await insert_key_result(
        session, viewer, objective, draft, await next_position(session, objective.id), "input."
    )
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="key_result.added",
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=kr.version,
        changes=[change("keyResults", None, kr.title)],
    )
    return kr


async def clean_key_result_patch(
    session: AsyncSession, viewer: Viewer, kr: models.KeyResult, patch: Mapping[str, Any], prefix: str = "patch."
) -> dict[str, Any]:
    """Validated column values of a patch, only those that change. Targets are re-derived as a whole."""
    given = {k: v for k, v in patch.items() if k in KEY_RESULT_PATCH_FIELDS and v is not None}
    if not given:
        return {}
    merged = {name: getattr(kr, name) for name in KEY_RESULT_PATCH_FIELDS} | given
    if "target_value" not in given and merged["calculation_type"] != CalculationType.ABSOLUTE_TARGET:
        merged["target_value"] = None
    cleaned = await clean_key_result(session, viewer, merged, prefix)
    return {name: value for name, value in cleaned.items() if getattr(kr, name) != value}


async def update_key_result(
    session: AsyncSession, viewer: Viewer, kr_id: int, version: int, patch: Mapping[str, Any]
) -> models.KeyResult:
    kr, objective = await load_key_result(session, viewer, kr_id)
    ensure_editable_in_place(objective)
    if not permissions.may_edit_draft(viewer, objective):
        raise Forbidden("Only the author, the owners, the owning team's leads and execs edit this draft.")
    if kr.version != version:
        raise VersionConflict("key result", version, kr.version)
    values = await clean_key_result_patch(session, viewer, kr, patch)
    if not values:
        return kr
    before = {name: getattr(kr, name) for name in values}
    await guarded_update(session, kr, version, values, "key result")
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="key_result.updated",
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=kr.version,
        changes=[change(f"keyResult.{camel(name)}", before[name], value) for name, value in values.items()],
    )
    return kr


async def remove_key_result(session: AsyncSession, viewer: Viewer, kr_id: int) -> models.Objective:
    """Soft: the row and its check-ins stay for history; it leaves every list and figure."""
    kr, objective = await load_key_result(session, viewer, kr_id)
    ensure_editable_in_place(objective)
    if not permissions.may_edit_draft(viewer, objective):
        raise Forbidden("Only the author, the owners, the owning team's leads and execs edit this draft.")
    await guarded_update(session, kr, kr.version, {"removed": True}, "key result")
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="key_result.removed",
        subject_type="KeyResult",
        subject_id=kr.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        version=kr.version,
        changes=[change("keyResults", kr.title, None)],
    )
    return objective
