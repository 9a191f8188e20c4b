"""Discussion, notifications and the append-only event log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.models.base import Base, Id, TenantMixin, TimestampMixin


class Comment(TenantMixin, TimestampMixin, Base):
    """On an objective, or on a proposal (then `objective_id` is the proposal's, for visibility)."""

    __tablename__ = "comments"

    objective_id: Mapped[int] = mapped_column(Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(Id, ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)


class Notification(TenantMixin, TimestampMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32), default=None)
    subject_id: Mapped[int | None] = mapped_column(Id, default=None)
    # The objective the subject belongs to, so notifications inherit its visibility.
    objective_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True, default=None
    )
    read_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Event(TenantMixin, TimestampMixin, Base):
    """An append-only record of a state or field change, hash-chained per organization."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)

    actor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_issuer: Mapped[str | None] = mapped_column(String(500), default=None)
    actor_subject: Mapped[str | None] = mapped_column(String(255), default=None)
    kind: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Id)
    objective_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True, default=None
    )
    cycle_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("cycles.id", ondelete="CASCADE"), index=True, default=None
    )
    subject_version: Mapped[int | None] = mapped_column(default=None)
    # [{"path": ..., "before": ..., "after": ...}] with values rendered as text.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    hash: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
