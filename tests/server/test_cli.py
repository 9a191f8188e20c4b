"""The `okr` command line, run as a real subprocess against a fresh SQLite file (and, for the large
demo organization, against PostgreSQL too when the suite runs there)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from server.app import create_app
from server.cli import DEMO_ISSUER_FALLBACK
from server.database import Database, sync_url
from server.migrations import migrate
from server.settings import _database_url
from server.synthesis import (
    LARGE_DEMO_DOMAIN,
    LARGE_DEMO_ORGANIZATION,
    add_organizations,
    large_demo_spec,
    progress_total,
    row_count,
)
from tests.fixtures.database import scratch_postgres_database
from tests.fixtures.oidc import OidcProvider, oidc_provider, signin_settings  # noqa: F401  (fixture)
from tests.server.test_auth_signin import authorize
from workflow.demo import DEMO_ORGANIZATION

ROOT = Path(__file__).resolve().parents[2]


def okr(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OKR_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", OKR_ENV="development")
    return env


def test_migrate_then_demo_is_idempotent(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert okr("migrate", env=cli_env).returncode == 0
    first = okr("demo", env=cli_env)
    assert first.returncode == 0, first.stderr
    second = okr("demo", env=cli_env)
    assert second.returncode == 0, second.stderr
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        (orgs,) = db.execute("select count(*) from organizations").fetchone()
        (objectives,) = db.execute("select count(*) from objectives").fetchone()
        phases = {row[0] for row in db.execute("select phase from cycles where kind = 'QUARTER'")}
        (check_ins,) = db.execute("select count(*) from check_ins").fetchone()
    assert orgs == 1
    assert objectives > 0
    assert phases == {"PLANNING", "NEGOTIATING", "ACTIVE", "REVIEWING", "CLOSED"}
    assert check_ins > 0


def test_org_create_and_refuses_bad_input(cli_env: dict[str, str], tmp_path: Path) -> None:
    okr("migrate", env=cli_env)
    created = okr(
        "org",
        "create",
        "--name",
        "Initech",
        "--domain",
        "initech.test",
        "--admin-email",
        "bill@initech.test",
        env=cli_env,
    )
    assert created.returncode == 0, created.stderr
    assert "bill@initech.test joins as ADMIN" in created.stdout
    again = okr(
        "org", "create", "--name", "Initech", "--domain", "initech.test", "--admin-email", "b@initech.test", env=cli_env
    )
    assert again.returncode != 0
    assert "already exists" in again.stderr
    bad = okr("org", "create", "--name", "X", "--domain", "not a domain", "--admin-email", "x@x.test", env=cli_env)
    assert bad.returncode != 0
    assert "is not a domain name" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATABASE_URL", "mysql://nope", "DATABASE_URL"),
        ("OKR_ENV", "staging", "OKR_ENV"),
        ("OKR_PUBLIC_URL", "http://okr.example.com", "OKR_PUBLIC_URL"),
        ("OKR_SECRET_KEY", "short", "OKR_SECRET_KEY"),
    ],
)
def test_bad_setting_is_one_line_naming_it(cli_env: dict[str, str], variable: str, value: str, named: str) -> None:
    result = okr("migrate", env={**cli_env, variable: value})
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_production_requires_a_secret_key(cli_env: dict[str, str]) -> None:
    result = okr("migrate", env={**cli_env, "OKR_ENV": "production"})
    assert result.returncode != 0
    assert "OKR_SECRET_KEY" in result.stderr


@pytest.fixture
def seed_db(cli_env: dict[str, str]) -> Iterator[tuple[dict[str, str], str]]:
    """The CLI's environment and the URL of the database it fills: on PostgreSQL, when the suite runs
    there, a scratch database of its own (the seeding commits, so the suite's database stays out of it)."""
    raw = os.environ.get("DATABASE_URL", "")
    if not raw.startswith("postgres"):
        yield cli_env, _database_url(cli_env)
        return
    with scratch_postgres_database(_database_url({"DATABASE_URL": raw}), "okr_cli") as url:
        yield {**cli_env, "DATABASE_URL": url}, url


TENANT_TABLES = ("memberships", "teams", "team_members", "cycles", "objectives", "key_results", "check_ins")


def rows_by_organization(url: str) -> dict[str, dict[str, int]]:
    """Row counts per organization name and table."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            names: dict[int, str] = dict(conn.execute(text("select id, name from organizations")).tuples().all())
            counts: dict[str, dict[str, int]] = {name: dict.fromkeys(TENANT_TABLES, 0) for name in names.values()}
            for table in TENANT_TABLES:
                grouped = conn.execute(text(f"select organization_id, count(*) from {table} group by organization_id"))
                for org_id, count in grouped.tuples():
                    counts[names[org_id]][table] = count
            return counts
    finally:
        engine.dispose()


def test_demo_objectives_adds_one_large_organization_once(seed_db: tuple[dict[str, str], str]) -> None:
    env, url = seed_db
    assert okr("migrate", env=env).returncode == 0
    assert okr("demo", env=env).returncode == 0
    demo_before = rows_by_organization(url)[DEMO_ORGANIZATION]

    seeded = okr("demo", "--objectives", "200", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert f"Seeding {LARGE_DEMO_ORGANIZATION}: 200 objectives" in seeded.stderr
    assert f"ceo@{LARGE_DEMO_DOMAIN}" in seeded.stdout
    counts = rows_by_organization(url)
    assert set(counts) == {DEMO_ORGANIZATION, LARGE_DEMO_ORGANIZATION}
    assert counts[DEMO_ORGANIZATION] == demo_before
    # 12 teams (the floor below 600 objectives) of 5, an admin and two execs; 4 key results each, 25 check-ins each.
    assert counts[LARGE_DEMO_ORGANIZATION] == {
        "memberships": 63,
        "teams": 12,
        "team_members": 60,
        "cycles": 1,
        "objectives": 200,
        "key_results": 800,
        "check_ins": 20_000,
    }
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        people = conn.execute(
            text(
                "select u.issuer, u.subject, u.email from users u join memberships m on m.user_id = u.id "
                "join organizations o on o.id = m.organization_id where o.name = :name"
            ),
            {"name": LARGE_DEMO_ORGANIZATION},
        ).all()
    engine.dispose()
    assert {issuer for issuer, _, _ in people} == {DEMO_ISSUER_FALLBACK}
    assert all(email.endswith(f"@{LARGE_DEMO_DOMAIN}") and subject == email for _, subject, email in people)
    assert len({subject for _, subject, _ in people}) == 63

    again = okr("demo", "--objectives", "200", env=env)
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    assert "Seeding" not in again.stderr
    assert rows_by_organization(url) == counts

    # The server's own inserts continue after the seeded ids (PostgreSQL's sequences were moved past them).
    created = okr(
        "org", "create", "--name", "Initech", "--domain", "initech.test", "--admin-email", "bill@initech.test", env=env
    )
    assert created.returncode == 0, created.stderr


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_demo_refuses_a_bad_objective_count(cli_env: dict[str, str], value: str) -> None:
    result = okr("demo", "--objectives", value, env=cli_env)
    assert result.returncode == 2
    assert "Invalid value for '--objectives'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("objectives", [1, 2, 7, 120])
def test_progress_adds_up_to_the_total_announced(seed_db: tuple[dict[str, str], str], objectives: int) -> None:
    _, url = seed_db
    migrate(url)
    spec = large_demo_spec(objectives, DEMO_ISSUER_FALLBACK)
    steps: list[int] = []
    [org] = add_organizations(url, [spec], progress=steps.append)
    assert sum(steps) == progress_total([spec]) == 2 * row_count(spec)
    assert (org.objective_count, org.key_result_count, org.check_in_count) == (
        objectives,
        objectives * 4,
        objectives * 100,
    )
    assert rows_by_organization(url)[spec.name]["objectives"] == objectives


async def test_large_demo_people_sign_in_and_see_their_organization(
    seed_db: tuple[dict[str, str], str],
    oidc_provider: OidcProvider,  # noqa: F811
) -> None:
    env, url = seed_db
    assert okr("migrate", env=env).returncode == 0
    seeded = okr("demo", "--issuer", oidc_provider.url, "--objectives", "200", env=env)
    assert seeded.returncode == 0, seeded.stderr
    settings = signin_settings(oidc_provider, url, "large-demo-secret-0123456789", scheduler_enabled=False)
    database = Database(url)
    try:
        app = create_app(settings, database)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
            # The provider knows nothing about this subject; the seeded user and membership are enough.
            done = await browser.get(await authorize(browser, f"ceo@{LARGE_DEMO_DOMAIN}"))
            assert done.status_code == 303
            query = "{ viewer { email role } objectives(first: 5) { totalCount edges { node { title } } } }"
            answer = (await browser.post("/graphql", json={"query": query})).json()
    finally:
        await database.dispose()
    assert "errors" not in answer, answer
    assert answer["data"]["viewer"] == {"email": f"ceo@{LARGE_DEMO_DOMAIN}", "role": "EXEC"}
    assert answer["data"]["objectives"]["totalCount"] == 200
    assert len(answer["data"]["objectives"]["edges"]) == 5
