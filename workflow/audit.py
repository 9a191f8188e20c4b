"""The tamper-evident event log: each event's hash covers its content and the previous event's hash.

The chain is per organization and follows event ids. It is computed when an Event row is inserted
(a mapper event), so services only add events. On PostgreSQL concurrent transactions serialize their
appends to one organization's chain with a transaction-scoped advisory lock; on SQLite writers are
already serialized (write transactions begin IMMEDIATE). UPDATE and DELETE on the table are refused
by database triggers (alembic/versions/0002_audit_triggers.py), so a changed row is visible only to
someone who disabled them, and `verify_chain` finds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, object_session

from workflow.models import Event

# First argument of the two-key advisory lock: a constant naming "the event chain" lock class.
ADVISORY_LOCK_CLASS = 0x0A0D17
_HEADS = "okr_audit_heads"

# The fields a hash covers, in this order. Adding a field changes every hash: version the scheme then.
HASHED_FIELDS = (
    "organization_id",
    "actor_id",
    "actor_issuer",
    "actor_subject",
    "kind",
    "subject_type",
    "subject_id",
    "objective_id",
    "cycle_id",
    "subject_version",
    "changes",
    "request_id",
    "note",
    "created_at",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


def event_hash(fields: dict[str, Any], prev_hash: str | None) -> str:
    """SHA-256 over the event's fields and the previous hash, as canonical JSON."""
    payload = {name: _canonical(fields.get(name)) for name in HASHED_FIELDS}
    payload["prev_hash"] = prev_hash
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in HASHED_FIELDS}


def _chain_head(connection: Connection, organization_id: int) -> str | None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, CAST(:org % 2147483647 AS integer))"),
            {"cls": ADVISORY_LOCK_CLASS, "org": organization_id},
        )
    return connection.execute(
        select(Event.hash).where(Event.organization_id == organization_id).order_by(Event.id.desc()).limit(1)
    ).scalar_one_or_none()


def _apply_defaults(target: Event) -> None:
    """Column defaults are applied by the INSERT itself, after this hook: apply them now, so the hash
    covers exactly the values that will be stored."""
    for name in HASHED_FIELDS:
        default = Event.__table__.c[name].default
        if getattr(target, name) is not None or default is None:
            continue
        if default.is_scalar:
            setattr(target, name, default.arg)
        elif default.is_callable:
            setattr(target, name, default.arg(None))


@event.listens_for(Event, "before_insert")
def _chain_event(mapper: Mapper[Event], connection: Connection, target: Event) -> None:
    _apply_defaults(target)
    # Events inserted in one flush are not in the table yet when the next one is hashed: remember
    # each organization's head for the rest of the flush.
    session = object_session(target)
    heads: dict[int, str | None] = session.info.setdefault(_HEADS, {}) if session is not None else {}
    if target.organization_id not in heads:
        heads[target.organization_id] = _chain_head(connection, target.organization_id)
    target.prev_hash = heads[target.organization_id]
    target.hash = event_hash(_fields(target), target.prev_hash)
    heads[target.organization_id] = target.hash


@event.listens_for(Session, "after_flush_postexec")
def _forget_heads(session: Session, flush_context: Any) -> None:
    # After the flush the rows are in the table; a rolled-back savepoint may remove them again,
    # so the next flush must read the head afresh.
    session.info.pop(_HEADS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_heads_on_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_HEADS, None)


@dataclass(frozen=True)
class BrokenLink:
    organization_id: int
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"organization {self.organization_id}: event {self.event_id} {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(organization_id: int, events: Iterable[Any]) -> ChainReport:
    """Walk one organization's events in id order; the first event whose link does not hold is named."""
    previous: str | None = None
    checked = 0
    for row in events:
        checked += 1
        if row.prev_hash != previous:
            return ChainReport(
                checked, BrokenLink(organization_id, row.id, "does not link to the event before it (prev_hash differs)")
            )
        if row.hash != event_hash(_fields(row), row.prev_hash):
            return ChainReport(
                checked, BrokenLink(organization_id, row.id, "was changed after it was written (hash differs)")
            )
        previous = row.hash
    return ChainReport(checked, None)


async def verify_chain(session: AsyncSession, organization_id: int | None = None) -> list[ChainReport]:
    """Check every organization's chain (or one); one report per organization, in id order."""
    org_ids_stmt = select(Event.organization_id).distinct().order_by(Event.organization_id)
    if organization_id is not None:
        org_ids_stmt = org_ids_stmt.where(Event.organization_id == organization_id)
    reports = []
    for org_id in (await session.execute(org_ids_stmt)).scalars():
        # Plain rows, not ORM objects: the session's identity map must not stand in for what is stored.
        table = Event.__table__
        events = await session.execute(select(table).where(table.c.organization_id == org_id).order_by(table.c.id))
        reports.append(check_chain(org_id, events))
    return reports
