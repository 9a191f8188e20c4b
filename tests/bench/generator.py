"""The benchmark's data: an emptied database with three organizations from server/synthesis.py.

Everything about how the rows are made and written lives there (`okr demo --objectives` uses it
too); this module names the benchmark's organizations and people and starts from an empty schema,
so ids, and with them every figure's sample, are the same on each run.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from server.database import sync_url
from server.migrations import migrate
from server.synthesis import GeneratedOrg, OrganizationSpec, PeopleNamer, Person, Seat, add_organizations
from workflow import models
from workflow.enums import Role

__all__ = ["Dataset", "GeneratedOrg", "generate", "org_specs", "reset_database"]

SEED = 20260101
ISSUER = "https://bench.idp.test"


def _bench_person(domain: str) -> PeopleNamer:
    def person(seat: Seat, user_id: int) -> Person:
        if seat.team is not None:
            name = f"Person {seat.team}.{seat.number}"
        elif seat.role == Role.ADMIN:
            name = "Bench Admin"
        else:
            name = "Bench Exec" if seat.number == 0 else "Second Exec"
        return Person(subject=f"u{user_id}", email=f"u{user_id}@{domain}", name=name)

    return person


def _spec(label: str, teams: int, objectives: int) -> OrganizationSpec:
    domain = f"{label}.bench.test"
    return OrganizationSpec(
        label=label,
        name=f"Bench {label}",
        domain=domain,
        issuer=ISSUER,
        teams=teams,
        objectives=objectives,
        people=_bench_person(domain),
        cycle_name="Bench quarter",
        description="Generated for the benchmark.",
        motivation="Because the benchmark needs a realistic tree.",
    )


def org_specs(scale: float) -> list[OrganizationSpec]:
    """The main organization at `scale`, a tenth of it (tree_scale) and a 100-objective one (checkin_scale)."""
    main = max(100, round(10_000 * scale))
    return [
        _spec("main", teams=max(12, round(200 * scale)), objectives=main),
        _spec("tenth", teams=max(12, round(20 * scale)), objectives=max(10, main // 10)),
        _spec("hundred", teams=12, objectives=100),
    ]


@dataclass
class Dataset:
    url: str
    orgs: dict[str, GeneratedOrg] = field(default_factory=dict)
    seconds: float = 0.0

    def org(self, label: str) -> GeneratedOrg:
        return self.orgs[label]


def reset_database(url: str) -> None:
    """An empty schema built through the migration chain, as the tests do."""
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            models.Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    migrate(url)


def generate(url: str, scale: float, today: dt.date | None = None) -> Dataset:
    """Reset the database at `url` and fill it with the three benchmark organizations."""
    started = time.perf_counter()
    reset_database(url)
    generated = add_organizations(url, org_specs(scale), today=today, seed=SEED)
    dataset = Dataset(url=url, orgs={org.spec.label: org for org in generated})
    dataset.seconds = time.perf_counter() - started
    return dataset
