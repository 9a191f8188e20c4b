"""Export one organization to a JSON document and restore it into an empty database.

The export walks every table of the models, so a table added later is carried without changes here:
tenant tables by `organization_id`, the organization itself, and the users it references. Rows keep
their ids, so links, cursors, global ids and the event hash chain survive the round trip. Rows are
written with Core inserts (no ORM events): restored events keep their recorded hashes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Date, DateTime, Table, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.models import Base

FORMAT = "okr-export"
FORMAT_VERSION = 1

Document = dict[str, Any]
Row = dict[str, Any]


class BackupError(Exception):
    """A document this server cannot restore, or a database it must not restore into."""


def _is_datetime(column: Column[Any]) -> bool:
    impl = getattr(column.type, "impl", column.type)
    return isinstance(impl, DateTime)


def _is_date(column: Column[Any]) -> bool:
    return isinstance(column.type, Date) and not _is_datetime(column)


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if _is_datetime(column):
        return dt.datetime.fromisoformat(value)
    if _is_date(column):
        return dt.date.fromisoformat(value)
    return value


def _self_references(table: Table) -> list[str]:
    """Columns pointing into their own table (team and objective trees): filled in after the rows exist."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _user_columns(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "users"]


async def _rows(session: AsyncSession, table: Table, where: Any) -> list[Row]:
    result = await session.execute(select(table).where(where).order_by(*table.primary_key.columns))
    return [{c.name: _encode(c, row[c.name]) for c in table.columns} for row in result.mappings()]


async def export_organization(session: AsyncSession, organization_id: int) -> Document:
    """Every row of the organization, table by table in dependency order, each table sorted by id."""
    tables = Base.metadata.sorted_tables
    organizations = Base.metadata.tables["organizations"]
    users = Base.metadata.tables["users"]
    exported: dict[str, list[Row]] = {}
    for table in tables:
        if table is organizations:
            exported[table.name] = await _rows(session, table, table.c.id == organization_id)
        elif "organization_id" in table.c:
            exported[table.name] = await _rows(session, table, table.c.organization_id == organization_id)
    if not exported["organizations"]:
        raise BackupError(f"There is no organization with id {organization_id}.")
    user_ids = sorted(
        {
            row[name]
            for table_name, rows in exported.items()
            for name in _user_columns(Base.metadata.tables[table_name])
            for row in rows
            if row[name] is not None
        }
    )
    exported["users"] = await _rows(session, users, users.c.id.in_(user_ids)) if user_ids else []
    ordered = {t.name: exported[t.name] for t in tables if t.name in exported}
    return {"format": FORMAT, "version": FORMAT_VERSION, "organization_id": organization_id, "tables": ordered}


async def _ensure_empty(session: AsyncSession) -> None:
    for name in ("organizations", "users"):
        table = Base.metadata.tables[name]
        if (await session.execute(select(func.count()).select_from(table))).scalar_one():
            raise BackupError(f"The target database already has {name}: restore into an empty, migrated database.")


async def _advance_sequences(session: AsyncSession, table: Table) -> None:
    """PostgreSQL hands out ids from a sequence that inserts with explicit ids did not move."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or "id" not in table.c:
        return
    name = dialect.identifier_preparer.quote(table.name)
    # The names come from the models' metadata, never from the document.
    statement = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))"  # noqa: S608
    await session.execute(text(statement))


async def import_organization(session: AsyncSession, document: Mapping[str, Any]) -> int:
    """Restore a document written by `export_organization`; returns the number of rows written."""
    if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
        raise BackupError(f"This is not an {FORMAT} document of version {FORMAT_VERSION}.")
    tables: Mapping[str, list[Row]] = document.get("tables") or {}
    unknown = sorted(set(tables) - set(Base.metadata.tables))
    if unknown:
        raise BackupError(f"The document has tables this server does not know: {', '.join(unknown)}.")
    await _ensure_empty(session)
    written = 0
    for table in Base.metadata.sorted_tables:
        rows = tables.get(table.name) or []
        if not rows:
            continue
        deferred = _self_references(table)
        decoded = [{c.name: _decode(c, row[c.name]) for c in table.columns if c.name in row} for row in rows]
        await session.execute(table.insert(), [{**row, **dict.fromkeys(deferred)} for row in decoded])
        # Columns maintained on UPDATE (updated_at) are written back as exported, not as "now".
        kept = [c.name for c in table.columns if c.onupdate is not None and c.name in decoded[0]]
        for name in deferred:
            links = [
                {"pk": row["id"], "value": row[name], **{f"kept_{k}": row[k] for k in kept}}
                for row in decoded
                if row.get(name) is not None
            ]
            if links:
                values: dict[str, Any] = {name: bindparam("value"), **{k: bindparam(f"kept_{k}") for k in kept}}
                await session.execute(table.update().where(table.c.id == bindparam("pk")).values(values), links)
        await _advance_sequences(session, table)
        written += len(rows)
    await session.flush()
    return written
