"""Spreadsheet import and export: bad rows reported by line, all-or-nothing, and a lossless round trip."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schema.ids import to_global_id
from server.database import Database
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from tests.server.committed_data import committed_factory, drop_organization
from workflow import exchange, models
from workflow.enums import CyclePhase, Direction, Role, TeamRole, Visibility

ROOT = Path(__file__).resolve().parents[2]

IMPORT = """
mutation($cycleId: ID!, $csv: String!, $skip: Boolean!) {
  importCsv(cycleId: $cycleId, csv: $csv, skipBadRows: $skip) {
    imported objectives keyResults problems { line reason } userErrors { code message }
  }
}
"""
EXPORT = "query($cycleId: ID!, $format: ExportFormat!) { exportCycle(cycleId: $cycleId, format: $format) }"

SHEET_WITH_MISTAKES = """Objective,Team,Owner,Key result,Metric,Start,Target,Unit,Direction
Grow revenue,Growth,,Reach 1M ARR,ARR,500000,1000000,USD,increase
Grow revenue,Growth,,Net revenue retention,NRR,abc,120,%,increase
,Growth,,Orphan key result,,1,2,,
Cut churn,Nowhere,,Churn below 2%,churn,5,2,%,decrease
Cut churn,Growth,ghost@example.test,Churn below 2%,churn,5,2,%,sideways
"""


async def count_objectives(session: AsyncSession, cycle: models.Cycle) -> int:
    stmt = select(func.count()).select_from(models.Objective).where(models.Objective.cycle_id == cycle.id)
    return int((await session.execute(stmt)).scalar_one())


async def test_a_sheet_with_mistakes_reports_every_bad_line_and_imports_nothing(
    api: Api, factory: Factory, session: AsyncSession
) -> None:
    org = await factory.organization()
    await factory.team(org, "Growth")
    admin = await factory.user(org, Role.ADMIN)
    cycle = await factory.cycle(org, phase=CyclePhase.PLANNING)

    result = await api(
        IMPORT, {"cycleId": to_global_id("Cycle", cycle.id), "csv": SHEET_WITH_MISTAKES, "skip": False}, as_=admin
    )
    report = result["importCsv"]
    assert report["imported"] is False
    assert report["userErrors"] == []
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [
        (3, "start 'abc' is not a number"),
        (4, "objective is empty"),
        (5, "no team named 'Nowhere'"),
        (6, "no member with the email 'ghost@example.test'; direction 'sideways' is not INCREASE or DECREASE"),
    ]
    assert await count_objectives(session, cycle) == 0

    skipped = await api(
        IMPORT, {"cycleId": to_global_id("Cycle", cycle.id), "csv": SHEET_WITH_MISTAKES, "skip": True}, as_=admin
    )
    assert skipped["importCsv"]["imported"] is True
    assert (skipped["importCsv"]["objectives"], skipped["importCsv"]["keyResults"]) == (1, 1)
    assert len(skipped["importCsv"]["problems"]) == 4
    assert await count_objectives(session, cycle) == 1


async def test_members_may_not_import(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    member = await factory.user(org, Role.MEMBER)
    cycle = await factory.cycle(org, phase=CyclePhase.PLANNING)
    result = await api(
        IMPORT, {"cycleId": to_global_id("Cycle", cycle.id), "csv": "objective\n", "skip": False}, as_=member
    )
    assert result["importCsv"]["userErrors"][0]["code"] == "FORBIDDEN"


async def test_missing_columns_are_reported_on_the_header_line(factory: Factory, session: AsyncSession) -> None:
    org = await factory.organization()
    cycle = await factory.cycle(org, phase=CyclePhase.PLANNING)
    report = await exchange.import_csv(session, cycle=cycle, text="Objective,Team\nA,B\n", skip_bad_rows=True)
    assert report.imported is False
    assert [str(p) for p in report.problems] == ["line 1: missing column(s): key result, start, target"]


async def seed_cycle(factory: Factory) -> tuple[models.Organization, models.User, models.Cycle, models.User]:
    org = await factory.organization()
    growth = await factory.team(org, "Growth")
    exec_ = await factory.user(org, Role.EXEC)
    owner = await factory.user(org, Role.MEMBER, teams={growth: TeamRole.MEMBER})
    outsider = await factory.user(org, Role.MEMBER)
    cycle = await factory.cycle(org, name="Q4")
    grow = await factory.objective(cycle, growth, title="=Grow revenue, fast")
    await factory.key_result(grow, title="ARR", metric_name="arr", unit="USD", start=5e5, target=1e6, owner_id=owner.id)
    await factory.key_result(
        grow, title="Churn", metric_name="churn", unit="%", start=5, target=2.5, direction=Direction.DECREASE
    )
    personal = await factory.objective(cycle, owner_user=owner, title='Learn "SQL"')
    await factory.key_result(personal, title="Courses done", start=0, target=3)
    await factory.objective(cycle, growth, title="Empty for now")
    await factory.objective(cycle, growth, title="Team secret", visibility=Visibility.TEAM)
    return org, exec_, cycle, outsider


async def test_export_then_import_round_trips_a_cycle(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    org, exec_, cycle, _ = await seed_cycle(factory)
    next_cycle = await factory.cycle(
        org, name="Q1", phase=CyclePhase.PLANNING, starts_on=cycle.ends_on, ends_on=cycle.ends_on
    )

    with count_statements(test_db) as counter:
        exported = (await api(EXPORT, {"cycleId": to_global_id("Cycle", cycle.id), "format": "CSV"}, as_=exec_))[
            "exportCycle"
        ]
    lines = list(csv.reader(io.StringIO(exported)))
    assert lines[0] == list(exchange.COLUMNS)
    assert lines[1][0] == "'=Grow revenue, fast", "formula-like text is guarded"
    assert lines[1][5:9] == ["500000", "1000000", "USD", "INCREASE"]
    assert len(lines) == 1 + 2 + 1 + 1 + 1
    export_statements = counter.count

    imported = await api(
        IMPORT, {"cycleId": to_global_id("Cycle", next_cycle.id), "csv": exported, "skip": False}, as_=exec_
    )
    assert imported["importCsv"]["problems"] == []
    assert (imported["importCsv"]["objectives"], imported["importCsv"]["keyResults"]) == (4, 3)

    again = await api(EXPORT, {"cycleId": to_global_id("Cycle", next_cycle.id), "format": "CSV"}, as_=exec_)
    assert again["exportCycle"] == exported

    # The statement count of an export does not grow with the cycle.
    await factory.key_result(
        await factory.objective(cycle, title="One more", owner_user=exec_), title="More", start=0, target=1
    )
    with count_statements(test_db) as counter:
        await api(EXPORT, {"cycleId": to_global_id("Cycle", cycle.id), "format": "CSV"}, as_=exec_)
    assert counter.count == export_statements


async def test_export_shows_only_what_the_viewer_sees_and_json_carries_figures(api: Api, factory: Factory) -> None:
    _, exec_, cycle, outsider = await seed_cycle(factory)
    as_exec = await api(EXPORT, {"cycleId": to_global_id("Cycle", cycle.id), "format": "JSON"}, as_=exec_)
    as_outsider = await api(EXPORT, {"cycleId": to_global_id("Cycle", cycle.id), "format": "JSON"}, as_=outsider)
    titles = [o["title"] for o in json.loads(as_exec["exportCycle"])["objectives"]]
    assert "Team secret" in titles
    outsider_doc = json.loads(as_outsider["exportCycle"])
    assert "Team secret" not in [o["title"] for o in outsider_doc["objectives"]]
    assert outsider_doc["cycle"]["name"] == "Q4"
    churn = next(kr for o in outsider_doc["objectives"] for kr in o["keyResults"] if kr["title"] == "Churn")
    assert churn == {
        "title": "Churn",
        "owner": None,
        "metric": "churn",
        "unit": "%",
        "start": 5.0,
        "target": 2.5,
        "direction": "DECREASE",
        "trackingFrequency": "WEEKLY",
        "currentValue": None,
        "progress": 0.0,
        "score": None,
    }


async def run_cli(database_url: str, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "OKR_ENV": "development"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_import_and_export(database: Database, database_url: str, tmp_path: Path) -> None:
    async with committed_factory(database) as factory:
        org = await factory.organization()
        await factory.team(org, "Growth")
        await factory.cycle(org, name="CLI quarter", phase=CyclePhase.PLANNING)
    try:
        bad = tmp_path / "bad.csv"
        bad.write_text(SHEET_WITH_MISTAKES)
        code, _, err = await run_cli(database_url, "import-csv", str(bad), "--cycle", "CLI quarter", "--org", org.name)
        assert code == 1
        assert "line 3: start 'abc' is not a number" in err
        assert "nothing imported: 4 bad row(s)" in err

        code, out, err = await run_cli(
            database_url, "import-csv", str(bad), "--cycle", "CLI quarter", "--org", org.name, "--skip-bad-rows"
        )
        assert code == 0, err
        assert "imported 1 objective(s) with 1 key result(s)" in out
        assert "skipped line 5: no team named 'Nowhere'" in err

        code, out, err = await run_cli(database_url, "export-cycle", "--cycle", "CLI quarter", "--org", org.name)
        assert code == 0, err
        assert out.splitlines()[1] == "Grow revenue,Growth,,Reach 1M ARR,ARR,500000,1000000,USD,INCREASE"
        target = tmp_path / "q.json"
        code, _, err = await run_cli(
            database_url,
            "export-cycle",
            "--cycle",
            "CLI quarter",
            "--org",
            org.name,
            "--format",
            "json",
            "--output",
            str(target),
        )
        assert code == 0, err
        assert json.loads(target.read_text())["objectives"][0]["keyResults"][0]["target"] == 1000000
    finally:
        await drop_organization(database, org.id)
