"""Tenants, people, teams and API credentials."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.enums import ReminderCadence, Role, TeamRole
from workflow.models.base import Base, Id, IdMixin, TenantMixin, TimestampMixin


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))
    email_domains: Mapped[list[str]] = mapped_column(default=list)
    default_role: Mapped[Role] = mapped_column(String(16), default=Role.MEMBER)
    # IdP group name -> Role name, read from the configured groups claim at sign-in.
    group_roles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Verified emails that join as ADMIN on first sign-in (bootstrap, DESIGN §5).
    admins_by_email: Mapped[list[str]] = mapped_column(default=list)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    reminder_cadence: Mapped[ReminderCadence] = mapped_column(String(16), default=ReminderCadence.WEEKLY)
    # Bumped by every write that changes a figure; cached trees are keyed by it.
    data_version: Mapped[int] = mapped_column(default=0)


class User(IdMixin, TimestampMixin, Base):
    """A person as the IdP knows them: `(issuer, subject)` is the identity, email is contact data."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    reminder_cadence: Mapped[ReminderCadence | None] = mapped_column(String(16), default=None)


class Membership(TenantMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(String(16), default=Role.MEMBER)


class Team(TenantMixin, TimestampMixin, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("teams.id", ondelete="SET NULL"), index=True)


class TeamMember(TenantMixin, TimestampMixin, Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_id: Mapped[int] = mapped_column(Id, ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(String(16), default=TeamRole.MEMBER)


class AccessToken(TenantMixin, TimestampMixin, Base):
    """A personal access token: only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "access_tokens"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
