"""`okr export` / `okr import`: an organization survives the round trip unchanged, event chain included."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.database import Database
from server.migrations import migrate
from tests.fixtures.database import scratch_postgres_database
from workflow import models
from workflow.audit import verify_chain
from workflow.backup import BackupError, export_organization, import_organization
from workflow.demo import seed_demo
from workflow.services.events import change, record_event

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://idp.backup.test"


async def _seed(session: AsyncSession) -> models.Organization:
    org = await seed_demo(session, ISSUER)
    objectives = (
        await session.execute(select(models.Objective).where(models.Objective.organization_id == org.id))
    ).scalars()
    for n, objective in enumerate(list(objectives)[:10]):
        await record_event(
            session,
            organization_id=org.id,
            actor=None,
            kind="objective.updated",
            subject_type="Objective",
            subject_id=objective.id,
            objective_id=objective.id,
            version=n,
            changes=[change("title", objective.title, f"{objective.title} (ü, 目標)")],
        )
    return org


def _differences(a: dict, b: dict) -> list[tuple[str, int, str]]:
    """(table, row id, column) for each cell that differs, so a failure names what changed."""
    found = []
    for name in sorted(set(a["tables"]) | set(b["tables"])):
        rows_a = {r["id"]: r for r in a["tables"].get(name, [])}
        rows_b = {r["id"]: r for r in b["tables"].get(name, [])}
        for pk in sorted(set(rows_a) | set(rows_b)):
            ra, rb = rows_a.get(pk, {}), rows_b.get(pk, {})
            found += [(name, pk, column) for column in sorted(set(ra) | set(rb)) if ra.get(column) != rb.get(column)]
    return found[:20]


@pytest.fixture
async def empty_database(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A second, freshly migrated database on the engine under test."""
    with contextlib.ExitStack() as scratch:
        if database_url.startswith("postgresql"):
            url = scratch.enter_context(scratch_postgres_database(database_url, "okr_backup"))
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
        migrate(url)
        database = Database(url)
        yield database
        await database.dispose()


async def test_round_trip_is_identical(session: AsyncSession, empty_database: Database) -> None:
    org = await _seed(session)
    exported = await export_organization(session, org.id)
    rows = {name: len(table) for name, table in exported["tables"].items() if table}
    async with empty_database.transaction() as target:
        written = await import_organization(target, json.loads(json.dumps(exported)))
    async with empty_database.transaction() as target:
        again = await export_organization(target, org.id)
        [chain] = await verify_chain(target, org.id)
        # New rows after a restore get fresh ids (PostgreSQL's sequences were moved past the restored ones).
        target.add(models.Team(organization_id=org.id, name="After the restore"))
        await target.flush()
    print(f"\nbackup: {written} rows in {len(rows)} tables restored; round trip identical: {again == exported}")
    assert written == sum(rows.values())
    assert rows["objectives"] > 0
    assert rows["check_ins"] > 0
    assert rows["events"] == 10
    assert _differences(again, exported) == []
    assert chain.intact
    assert chain.events_checked == 10


async def test_import_refuses_a_database_that_is_not_empty(session: AsyncSession, empty_database: Database) -> None:
    org = await _seed(session)
    exported = await export_organization(session, org.id)
    async with empty_database.transaction() as target:
        await import_organization(target, exported)
    with pytest.raises(BackupError, match="already has organizations"):
        async with empty_database.transaction() as target:
            await import_organization(target, exported)
    with pytest.raises(BackupError, match="not an okr-export document"):
        async with empty_database.transaction() as target:
            await import_organization(target, {"format": "something else"})
    async with empty_database.transaction() as target:
        assert (await target.execute(select(func.count()).select_from(models.Organization))).scalar_one() == 1


def _okr(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


async def test_cli_export_import_and_audit_verify(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OKR_", "DATABASE_URL"))}
    source = {**base, "OKR_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}"}
    target = {**source, "DATABASE_URL": f"sqlite:///{tmp_path / 'target.sqlite3'}"}
    assert _okr("migrate", env=source).returncode == 0
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'source.sqlite3'}")
    async with database.transaction() as session:
        org = await _seed(session)
    await database.dispose()

    exported = _okr("export", "--org", str(org.id), "-o", str(tmp_path / "org.json"), env=source)
    assert exported.returncode == 0, exported.stderr
    assert _okr("migrate", env=target).returncode == 0
    restored = _okr("import", str(tmp_path / "org.json"), env=target)
    assert restored.returncode == 0, restored.stderr
    again = _okr("export", "--org", str(org.id), env=target)
    assert json.loads(again.stdout) == json.loads((tmp_path / "org.json").read_text())
    intact = _okr("audit", "verify", env=target)
    assert intact.returncode == 0, intact.stderr
    assert "audit chain intact: 10 events in 1 organizations" in intact.stdout

    with sqlite3.connect(tmp_path / "target.sqlite3") as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE events SET note = 'x'")
        # Tampering needs the trigger out of the way first: exactly what verify must then catch.
        (victim,) = db.execute("SELECT id FROM events ORDER BY id LIMIT 1 OFFSET 4").fetchone()
        db.execute("DROP TRIGGER events_no_update")
        db.execute("UPDATE events SET changes = '[]' WHERE id = ?", (victim,))
    tampered = _okr("audit", "verify", env=target)
    print(f"\naudit verify after tampering: {tampered.stderr.strip()}")
    assert tampered.returncode == 1
    assert f"event {victim} was changed after it was written" in tampered.stderr
