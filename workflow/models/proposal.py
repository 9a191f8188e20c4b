"""Change requests against agreed OKRs, like pull requests against a team page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.enums import ProposalStatus, ReviewDecision
from workflow.models.base import Base, Id, TenantMixin, TimestampMixin, utcnow


class Proposal(TenantMixin, TimestampMixin, Base):
    __tablename__ = "proposals"

    objective_id: Mapped[int] = mapped_column(Id, ForeignKey("objectives.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rationale: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int]
    status: Mapped[ProposalStatus] = mapped_column(String(24), default=ProposalStatus.OPEN, index=True)
    cancel: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProposalChange(TenantMixin, Base):
    """One field change of a proposal.

    `op` says what is changed (objective field, key result add/patch/remove, realign, cancel);
    `payload` holds what applying needs; `path`/`before`/`after` are what reviewers read.
    """

    __tablename__ = "proposal_changes"

    proposal_id: Mapped[int] = mapped_column(Id, ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    op: Mapped[str] = mapped_column(String(32))
    key_result_id: Mapped[int | None] = mapped_column(Id, ForeignKey("key_results.id", ondelete="SET NULL"), index=True)
    path: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text, default=None)
    after: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProposalReview(TenantMixin, TimestampMixin, Base):
    __tablename__ = "proposal_reviews"

    proposal_id: Mapped[int] = mapped_column(Id, ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")
