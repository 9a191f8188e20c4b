"""The `okr` command line, run as a real subprocess against a fresh SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

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
