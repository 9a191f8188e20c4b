"""Input types of the contract."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.enums import (
    CalculationType,
    Commitment,
    CycleKind,
    Direction,
    Health,
    ObjectiveStatus,
    Rollup,
    TrackingFrequency,
    Visibility,
)


@strawberry.input
class ObjectiveFilter:
    cycle_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
    owner_user_id: strawberry.ID | None = None
    status: list[ObjectiveStatus] | None = None
    health: list[Health] | None = None
    tag: str | None = None
    search: str | None = None


@strawberry.input
class CycleInput:
    name: str
    kind: CycleKind
    starts_on: dt.date
    ends_on: dt.date
    parent_id: strawberry.ID | None = None


@strawberry.input
class KeyResultInput:
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
    counter_metric: bool | None = None
    weight: float | None = None
    owner_id: strawberry.ID | None = None


@strawberry.input
class ObjectiveInput:
    cycle_id: strawberry.ID
    title: str
    description: str | None = None
    motivation: str | None = None
    owner_team_id: strawberry.ID | None = None
    owner_user_id: strawberry.ID | None = None
    commitment: Commitment | None = None
    visibility: Visibility | None = None
    tags: list[str] | None = None
    parent_id: strawberry.ID | None = None
    weight: float | None = None
    key_results: list[KeyResultInput] | None = None


@strawberry.input
class ObjectivePatch:
    title: str | None = None
    description: str | None = None
    motivation: str | None = None
    commitment: Commitment | None = None
    visibility: Visibility | None = None
    tags: list[str] | None = None
    parent_id: strawberry.ID | None = None
    weight: float | None = None


@strawberry.input
class KeyResultPatch:
    title: str | None = None
    metric_name: str | None = None
    unit: str | None = None
    start_value: float | None = None
    target_value: float | None = None
    lift_value: float | None = None
    direction: Direction | None = None
    calculation_type: CalculationType | None = None
    tracking_frequency: TrackingFrequency | None = None
    rollup: Rollup | None = None
    counter_metric: bool | None = None
    weight: float | None = None
    owner_id: strawberry.ID | None = None


@strawberry.input
class KeyResultChange:
    key_result_id: strawberry.ID | None = None
    patch: KeyResultPatch | None = None
    add: KeyResultInput | None = None
    remove: bool | None = None


@strawberry.input
class ProposalInput:
    objective_id: strawberry.ID
    base_version: int
    rationale: str
    objective: ObjectivePatch | None = None
    key_results: list[KeyResultChange] | None = None
    cancel: bool | None = None


@strawberry.input
class CheckInInput:
    key_result_id: strawberry.ID
    value: float
    note: str | None = None
    confidence: float | None = None
    measured_at: dt.datetime | None = None
    idempotency_key: str | None = None
