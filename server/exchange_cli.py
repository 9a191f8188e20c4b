"""`okr import-csv` and `okr export-cycle`: spreadsheets from the command line, with a progress bar."""

from __future__ import annotations

import sys
from typing import IO, TextIO

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import exchange, models
from workflow.errors import DomainError


async def _organization(session: AsyncSession, name: str | None) -> models.Organization:
    """The named organization, or the only one there is."""
    stmt = select(models.Organization).order_by(models.Organization.id)
    if name is not None:
        stmt = stmt.where(models.Organization.name == name)
    found = list((await session.execute(stmt.limit(2))).scalars())
    if name is not None and not found:
        raise click.ClickException(f"no organization named {name!r}")
    if len(found) != 1:
        raise click.ClickException("there are several organizations (or none): name one with --org")
    return found[0]


def _stderr() -> TextIO:
    # Progress goes to stderr so an export piped from stdout stays clean.
    return sys.stderr


@click.command("import-csv")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--cycle", "cycle_name", required=True, help="The cycle to import into, by name.")
@click.option("--org", "org_name", default=None, help="The organization, by name (needed when there are several).")
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even when some are bad.")
def import_csv(file: IO[str], cycle_name: str, org_name: str | None, skip_bad_rows: bool) -> None:
    """Import an OKR sheet as DRAFT objectives.

    Columns: objective, team, owner, key result, metric, start, target, unit, direction. Every bad
    row is reported with its line number; nothing is imported when any row is bad, unless
    --skip-bad-rows.
    """
    from server.cli import load_settings, run_async
    from server.database import Database

    text = file.read()
    settings = load_settings()

    async def run() -> exchange.ImportReport:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                org = await _organization(session, org_name)
                cycle = await exchange.find_cycle(session, org.id, cycle_name)
                rows = max(len(text.splitlines()) - 1, 0)
                with click.progressbar(length=rows, label="Importing", file=_stderr()) as bar:
                    return await exchange.import_csv(
                        session, cycle=cycle, text=text, skip_bad_rows=skip_bad_rows, progress=bar.update
                    )
        finally:
            await database.dispose()

    try:
        report = run_async(run)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for problem in report.problems:
        click.echo(f"{'skipped ' if report.imported else ''}{problem}", err=True)
    if not report.imported:
        raise click.ClickException(
            f"nothing imported: {len(report.problems)} bad row(s); fix them or pass --skip-bad-rows"
        )
    click.echo(f"imported {report.objectives} objective(s) with {report.key_results} key result(s) into {cycle_name!r}")


@click.command("export-cycle")
@click.option("--cycle", "cycle_name", required=True, help="The cycle to export, by name.")
@click.option("--org", "org_name", default=None, help="The organization, by name (needed when there are several).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default stdout).")
def export_cycle(cycle_name: str, org_name: str | None, fmt: str, output: IO[str]) -> None:
    """Export a cycle as the import sheet (CSV) or as JSON with today's figures."""
    from server.cli import load_settings, run_async
    from server.database import Database

    settings = load_settings()

    async def run() -> str:
        database = Database(settings.database_url)
        try:
            async with database.transaction(write=False) as session:
                org = await _organization(session, org_name)
                cycle = await exchange.find_cycle(session, org.id, cycle_name)
                rows = await exchange.count_export_rows(session, cycle)
                export = exchange.export_json if fmt == "json" else exchange.export_csv
                with click.progressbar(length=rows, label="Exporting", file=_stderr()) as bar:
                    return await export(session, cycle, None, bar.update)
        finally:
            await database.dispose()

    try:
        text = run_async(run)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    output.write(text)
    if output is not sys.stdout:
        output.flush()
