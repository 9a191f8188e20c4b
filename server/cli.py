"""The `okr` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from server.settings import Settings, SettingsError

T = TypeVar("T")

DEMO_ISSUER_FALLBACK = "http://127.0.0.1:9400"


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(factory())


@click.group()
def main() -> None:
    """okr-server: a collaborative OKR workflow server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the GraphQL API and the web app."""
    import uvicorn

    load_settings()  # fail fast, with one line, before uvicorn starts
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        # The app logs each request as JSON, without query strings (OAuth codes) or headers.
        access_log=False,
        timeout_graceful_shutdown=20,
    )


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from server.migrations import migrate as run_migrations

    settings = load_settings()
    run_migrations(settings.database_url)
    click.echo("database is up to date")


@main.command()
@click.option(
    "--issuer",
    envvar="OKR_OIDC_ISSUER",
    default=DEMO_ISSUER_FALLBACK,
    show_default=True,
    help="The OIDC issuer the demo people sign in through.",
)
@click.option(
    "--objectives",
    type=click.IntRange(min=1),
    default=None,
    help="Also seed a large organization of this many objectives (a team per 50, 4 key results each, "
    "25 check-ins per key result).",
)
def demo(issuer: str, objectives: int | None) -> None:
    """Seed the demo organization (idempotent), and a large one with --objectives."""
    from server.database import Database
    from workflow.demo import seed_demo

    settings = load_settings()

    async def seed() -> str:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                org = await seed_demo(session, issuer.rstrip("/"))
                return org.name
        finally:
            await database.dispose()

    click.echo(f"demo organization ready: {run_async(seed)}")
    if objectives is not None:
        _seed_large_demo(settings.database_url, issuer.rstrip("/"), objectives)


def _seed_large_demo(url: str, issuer: str, objectives: int) -> None:
    from server.synthesis import add_organizations, large_demo_spec, organization_named, progress_total

    spec = large_demo_spec(objectives, issuer)
    existing = organization_named(url, spec.name)
    if existing is not None:
        # One large organization only: a second would claim the same email domain and sign-in subjects.
        click.echo(f"large demo organization already there: {spec.name} ({existing[1]:,} objectives); nothing added")
        return
    label = f"Seeding {spec.name}: {objectives:,} objectives"
    # On stderr like every progress bar of the CLI: stdout keeps the one-line results.
    with click.progressbar(length=progress_total([spec]), label=label, file=sys.stderr) as bar:
        [org] = add_organizations(url, [spec], progress=bar.update)
    click.echo(
        f"large demo organization ready: {spec.name} ({org.objective_count:,} objectives, {org.team_count} teams, "
        f"{org.key_result_count:,} key results, {org.check_in_count:,} check-ins); sign in as {org.exec_email}"
    )


@main.command()
def schema() -> None:
    """Print the GraphQL SDL."""
    from schema.app_schema import sdl

    sys.stdout.write(sdl())


@main.group()
def org() -> None:
    """Organizations."""


@org.command("create")
@click.option("--name", required=True)
@click.option("--domain", required=True, help="Verified emails in this domain join on first sign-in.")
@click.option("--admin-email", required=True, help="This person joins as ADMIN.")
def org_create(name: str, domain: str, admin_email: str) -> None:
    """Create an organization (DESIGN §5)."""
    from server.database import Database
    from workflow.errors import DomainError
    from workflow.services.organizations import create_organization

    settings = load_settings()

    async def create() -> int:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                org = await create_organization(session, name=name, domain=domain, admin_email=admin_email)
                return org.id
        finally:
            await database.dispose()

    try:
        org_id = run_async(create)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"organization {name!r} created (id {org_id}); {admin_email} joins as ADMIN on first sign-in")


# Operator commands live in their own module; registered here so `okr --help` lists them.
from server.maintenance import audit, export_command, import_command  # noqa: E402

main.add_command(audit)
main.add_command(export_command)
main.add_command(import_command)

from server.exchange_cli import export_cycle, import_csv  # noqa: E402

main.add_command(import_csv)
main.add_command(export_cycle)


if __name__ == "__main__":
    main()
