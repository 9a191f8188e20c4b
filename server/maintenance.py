"""Operator commands: `okr audit verify`, `okr export`, `okr import` (registered in server/cli.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from server.database import Database
from server.settings import Settings, SettingsError

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(factory())


@click.group()
def audit() -> None:
    """The tamper-evident event log."""


@audit.command("verify")
@click.option("--org", "organization_id", type=int, default=None, help="Check one organization (default: all).")
def audit_verify(organization_id: int | None) -> None:
    """Check every event's hash chain; exit 1 naming the first broken link."""
    from workflow.audit import ChainReport, verify_chain

    settings = _settings()

    async def verify() -> list[ChainReport]:
        database = Database(settings.database_url)
        try:
            async with database.transaction(write=False) as session:
                return await verify_chain(session, organization_id)
        finally:
            await database.dispose()

    reports = _run(verify)
    checked = sum(r.events_checked for r in reports)
    broken = [r.broken for r in reports if r.broken is not None]
    if broken:
        for link in broken:
            click.echo(f"broken link: {link}", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {checked} events in {len(reports)} organizations")


@click.command("export")
@click.option("--org", "organization_id", type=int, required=True, help="The organization's id.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: stdout.")
def export_command(organization_id: int, output: Path | None) -> None:
    """Write a whole organization (its rows in every table) to JSON."""
    from workflow.backup import BackupError, export_organization

    settings = _settings()

    async def export() -> dict[str, Any]:
        database = Database(settings.database_url)
        try:
            async with database.transaction(write=False) as session:
                return await export_organization(session, organization_id)
        finally:
            await database.dispose()

    try:
        document = _run(export)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        rows = sum(len(t) for t in document["tables"].values())
        click.echo(f"exported organization {organization_id}: {rows} rows to {output}", err=True)


@click.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(source: Path) -> None:
    """Restore an organization written by `okr export` into an empty database (run `okr migrate` first)."""
    from workflow.backup import BackupError, import_organization

    settings = _settings()
    document = json.loads(source.read_text(encoding="utf-8"))

    async def restore() -> int:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                return await import_organization(session, document)
        finally:
            await database.dispose()

    try:
        rows = _run(restore)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"imported {rows} rows")
