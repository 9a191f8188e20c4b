"""Cycles, objectives, key results and what hangs off them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.enums import (
    CalculationType,
    Commitment,
    CycleKind,
    CyclePhase,
    Direction,
    InitiativeKind,
    ObjectiveOrigin,
    ObjectiveStatus,
    Rollup,
    TrackingFrequency,
    Visibility,
)
from workflow.models.base import Base, Id, TenantMixin, TimestampMixin, utcnow


class Cycle(TenantMixin, TimestampMixin, Base):
    __tablename__ = "cycles"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CycleKind] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    phase: Mapped[CyclePhase] = mapped_column(String(16), default=CyclePhase.PLANNING, index=True)
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(default=1)


class Objective(TenantMixin, TimestampMixin, Base):
    __tablename__ = "objectives"
    __table_args__ = (
        Index("ix_objectives_cycle_status", "cycle_id", "status"),
        Index("ix_objectives_cycle_team", "cycle_id", "owner_team_id"),
    )

    cycle_id: Mapped[int] = mapped_column(Id, ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    motivation: Mapped[str] = mapped_column(Text, default="")
    owner_team_id: Mapped[int | None] = mapped_column(Id, ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    origin: Mapped[ObjectiveOrigin] = mapped_column(String(8), default=ObjectiveOrigin.TEAM)
    submitted_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    commitment: Mapped[Commitment] = mapped_column(String(16), default=Commitment.ASPIRATIONAL)
    visibility: Mapped[Visibility] = mapped_column(String(16), default=Visibility.ORGANIZATION)
    tags: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[ObjectiveStatus] = mapped_column(String(16), default=ObjectiveStatus.DRAFT, index=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("objectives.id", ondelete="SET NULL"), index=True)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    reflection: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Loaded only on purpose (selectinload); touching it unloaded raises instead of querying.
    key_results: Mapped[list[KeyResult]] = relationship(lazy="raise", order_by="KeyResult.position", viewonly=True)


class ObjectiveTag(TenantMixin, Base):
    """One row per tag so `ObjectiveFilter.tag` is an indexed lookup on both engines."""

    __tablename__ = "objective_tags"
    __table_args__ = (UniqueConstraint("objective_id", "tag"),)

    objective_id: Mapped[int] = mapped_column(Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(100), index=True)


class KeyResult(TenantMixin, TimestampMixin, Base):
    """A measurable outcome.

    Figures are derived on read from the aggregate columns below, which `recordCheckIn` keeps
    up to date in the same transaction as the check-in insert. That makes a check-in O(1) work and
    any progress, health or projection a pure function of one row: no scan of the check-ins table.
    """

    __tablename__ = "key_results"

    objective_id: Mapped[int] = mapped_column(Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    metric_name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(50), default="")
    start_value: Mapped[float] = mapped_column(Float)
    target_value: Mapped[float] = mapped_column(Float)
    lift_value: Mapped[float | None] = mapped_column(Float, default=None)
    direction: Mapped[Direction] = mapped_column(String(16), default=Direction.INCREASE)
    calculation_type: Mapped[CalculationType] = mapped_column(String(24), default=CalculationType.ABSOLUTE_TARGET)
    tracking_frequency: Mapped[TrackingFrequency] = mapped_column(String(16), default=TrackingFrequency.WEEKLY)
    rollup: Mapped[Rollup] = mapped_column(String(16), default=Rollup.LAST)
    counter_metric: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    owner_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    reflection: Mapped[str | None] = mapped_column(Text, default=None)
    removed: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    # Aggregates over the in-cycle check-ins (check-ins are append-only, so each updates in O(1)).
    checkin_count: Mapped[int] = mapped_column(default=0)
    value_sum: Mapped[float] = mapped_column(Float, default=0.0)
    value_min: Mapped[float | None] = mapped_column(Float, default=None)
    value_max: Mapped[float | None] = mapped_column(Float, default=None)
    last_value: Mapped[float | None] = mapped_column(Float, default=None)
    last_measured_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Least-squares sums with t in days since the cycle start: the projection needs nothing else.
    fit_sum_t: Mapped[float] = mapped_column(Float, default=0.0)
    fit_sum_tt: Mapped[float] = mapped_column(Float, default=0.0)
    fit_sum_v: Mapped[float] = mapped_column(Float, default=0.0)
    fit_sum_tv: Mapped[float] = mapped_column(Float, default=0.0)
    fit_count: Mapped[int] = mapped_column(default=0)

    objective: Mapped[Objective] = relationship(lazy="raise", viewonly=True)


class CheckIn(TenantMixin, TimestampMixin, Base):
    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("key_result_id", "idempotency_key"),
        Index("ix_check_ins_key_result_measured", "key_result_id", "measured_at"),
    )

    key_result_id: Mapped[int] = mapped_column(Id, ForeignKey("key_results.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    measured_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    after_cycle_end: Mapped[bool] = mapped_column(default=False)


class Initiative(TenantMixin, TimestampMixin, Base):
    __tablename__ = "initiatives"

    key_result_id: Mapped[int] = mapped_column(Id, ForeignKey("key_results.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InitiativeKind] = mapped_column(String(16), default=InitiativeKind.INITIATIVE)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    status: Mapped[str] = mapped_column(String(32), default="PLANNED")


class Retrospective(TenantMixin, TimestampMixin, Base):
    """A team's end-of-cycle review; until published its reflections stay with the team and execs."""

    __tablename__ = "retrospectives"
    __table_args__ = (UniqueConstraint("cycle_id", "team_id"),)

    cycle_id: Mapped[int] = mapped_column(Id, ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(Id, ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    published_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
