"""A deterministic organization generator for the benchmarks.

Rows are built as plain tuples with ids assigned here and written with the drivers' bulk paths
(sqlite3 `executemany`, PostgreSQL `COPY`): building a million ORM objects would take longer than the
whole benchmark. The key result aggregate columns are filled directly, exactly as `fold_check_in`
would leave them, so reads see the same figures a live server would have computed.

The values come from one seeded RNG; only the cycle dates follow the calendar (the cycle is always
running "now"), so health and projections look like a real mid-quarter tree.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, create_engine, text
from sqlalchemy.engine import make_url

from server.database import sync_url
from server.migrations import migrate
from workflow import models
from workflow.enums import (
    CalculationType,
    Commitment,
    CycleKind,
    CyclePhase,
    Direction,
    ObjectiveOrigin,
    ObjectiveStatus,
    Role,
    Rollup,
    TeamRole,
    TrackingFrequency,
    Visibility,
)

SEED = 20260101
ISSUER = "https://bench.idp.test"
KEY_RESULTS_PER_OBJECTIVE = 4
CHECK_INS_PER_KEY_RESULT = 25
MEMBERS_PER_TEAM = 5
CHECK_IN_SPACING_DAYS = 2


@dataclass(frozen=True)
class OrgSpec:
    """One generated organization; `label` names it in the results."""

    label: str
    teams: int
    objectives: int


def org_specs(scale: float) -> list[OrgSpec]:
    """The main organization at `scale`, a tenth of it (tree_scale) and a 100-objective one (checkin_scale)."""
    main = max(100, round(10_000 * scale))
    return [
        OrgSpec("main", teams=max(12, round(200 * scale)), objectives=main),
        OrgSpec("tenth", teams=max(12, round(20 * scale)), objectives=max(10, main // 10)),
        OrgSpec("hundred", teams=12, objectives=100),
    ]


@dataclass
class GeneratedOrg:
    spec: OrgSpec
    organization_id: int
    cycle_id: int
    root_team_id: int
    department_team_id: int
    exec_user_id: int
    exec_email: str
    member_user_id: int
    member_email: str
    # A team without sub-teams, so "its objectives" mean the same to every server compared.
    leaf_team_id: int
    sample_objective_id: int
    sample_key_result_id: int
    objective_count: int
    key_result_count: int
    check_in_count: int
    team_count: int


@dataclass
class Dataset:
    url: str
    orgs: dict[str, GeneratedOrg] = field(default_factory=dict)
    seconds: float = 0.0

    def org(self, label: str) -> GeneratedOrg:
        return self.orgs[label]


class _Ids:
    """Per-table id counters shared by every organization of one database."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self._next.get(table, 1)
        self._next[table] = value + 1
        return value

    def last(self) -> dict[str, int]:
        return {name: value - 1 for name, value in self._next.items()}


class _Rows:
    """Rows per table as full tuples in the table's column order, defaults filled from the model."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.tables: dict[str, list[tuple[Any, ...]]] = {}
        self._defaults: dict[str, tuple[list[str], dict[str, Any]]] = {}

    def _layout(self, table: Table) -> tuple[list[str], dict[str, Any]]:
        if table.name not in self._defaults:
            defaults: dict[str, Any] = {}
            for column in table.columns:
                default = column.default
                if default is None:
                    continue
                if getattr(default, "is_scalar", False):
                    defaults[column.name] = default.arg  # type: ignore[attr-defined]
                elif getattr(default, "is_callable", False):
                    produced = default.arg(None)  # type: ignore[attr-defined]
                    defaults[column.name] = self.now if isinstance(produced, dt.datetime) else produced
            self._defaults[table.name] = ([c.name for c in table.columns], defaults)
        return self._defaults[table.name]

    def add(self, table: Table, **values: Any) -> None:
        names, defaults = self._layout(table)
        row = tuple(values[name] if name in values else defaults.get(name) for name in names)
        self.tables.setdefault(table.name, []).append(row)

    def columns(self, table: Table) -> list[str]:
        return self._layout(table)[0]


def _cycle_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    """A 91-day cycle 55 days in: enough history for 25 check-ins every 2 days."""
    start = today - dt.timedelta(days=55)
    return start, start + dt.timedelta(days=91)


def _team_tree(rng: random.Random, count: int) -> tuple[list[int | None], list[int]]:
    """Parents by index and depth by index: a root, departments, teams, a quarter of them sub-teams."""
    departments = max(2, count // 25)
    parents: list[int | None] = [None]
    depths = [0]
    for i in range(1, count):
        if i <= departments:
            parents.append(0)
            depths.append(1)
        elif i <= departments * 2 or rng.random() < 0.75:
            dept = 1 + (i % departments)
            parents.append(dept)
            depths.append(2)
        else:
            candidates = [j for j in range(departments + 1, i) if depths[j] == 2]
            parent = rng.choice(candidates)
            parents.append(parent)
            depths.append(3)
    return parents, depths


def _department_of(index: int, parents: Sequence[int | None], depths: Sequence[int]) -> int:
    while depths[index] > 1:
        parent = parents[index]
        assert parent is not None
        index = parent
    return index


def _generate_org(
    rows: _Rows, ids: _Ids, rng: random.Random, spec: OrgSpec, today: dt.date, now: dt.datetime
) -> GeneratedOrg:
    meta = models.Base.metadata.tables
    org_id = ids.take("organizations")
    domain = f"{spec.label}.bench.test"
    rows.add(meta["organizations"], id=org_id, name=f"Bench {spec.label}", email_domains=json.dumps([domain]))

    def add_user(role: Role, name: str) -> tuple[int, str]:
        user_id = ids.take("users")
        email = f"u{user_id}@{domain}"
        rows.add(meta["users"], id=user_id, issuer=ISSUER, subject=f"u{user_id}", email=email, name=name)
        rows.add(meta["memberships"], id=ids.take("memberships"), organization_id=org_id, user_id=user_id, role=role)
        return user_id, email

    add_user(Role.ADMIN, "Bench Admin")
    exec_id, exec_email = add_user(Role.EXEC, "Bench Exec")
    add_user(Role.EXEC, "Second Exec")

    parents, depths = _team_tree(rng, spec.teams)
    team_ids = [ids.take("teams") for _ in parents]
    leads: list[int] = []
    first_member: dict[int, tuple[int, str]] = {}
    for index, parent in enumerate(parents):
        rows.add(
            meta["teams"],
            id=team_ids[index],
            organization_id=org_id,
            name=f"Team {index}" if index else "Company",
            parent_id=None if parent is None else team_ids[parent],
        )
        for seat in range(MEMBERS_PER_TEAM):
            user_id, email = add_user(Role.MEMBER, f"Person {index}.{seat}")
            role = TeamRole.LEAD if seat == 0 else TeamRole.MEMBER
            rows.add(
                meta["team_members"],
                id=ids.take("team_members"),
                organization_id=org_id,
                team_id=team_ids[index],
                user_id=user_id,
                role=role,
            )
            if seat == 0:
                leads.append(user_id)
            elif seat == 1:
                first_member[index] = (user_id, email)

    starts_on, ends_on = _cycle_dates(today)
    cycle_id = ids.take("cycles")
    rows.add(
        meta["cycles"],
        id=cycle_id,
        organization_id=org_id,
        name="Bench quarter",
        kind=CycleKind.QUARTER,
        starts_on=starts_on,
        ends_on=ends_on,
        phase=CyclePhase.ACTIVE,
    )
    cycle_start = dt.datetime.combine(starts_on, dt.time(), tzinfo=dt.UTC)

    # Three levels: company objectives on the root team, department ones aligned to them, team ones
    # aligned to their department's.
    company_count = max(1, round(spec.objectives * 0.02))
    department_count = max(1, round(spec.objectives * 0.18))
    team_count = spec.objectives - company_count - department_count
    departments = [i for i, d in enumerate(depths) if d == 1]
    teams_below = [i for i, d in enumerate(depths) if d >= 2]
    objectives_of_department: dict[int, list[int]] = {d: [] for d in departments}
    company_objectives: list[int] = []

    def add_objective(team_index: int, parent_id: int | None, level: str) -> int:
        objective_id = ids.take("objectives")
        visibility = Visibility.TEAM if rng.random() < 0.1 else Visibility.ORGANIZATION
        rows.add(
            meta["objectives"],
            id=objective_id,
            organization_id=org_id,
            created_at=now,
            cycle_id=cycle_id,
            title=f"{level} objective {objective_id}: grow what matters",
            description="Generated for the benchmark.",
            motivation="Because the benchmark needs a realistic tree.",
            owner_team_id=team_ids[team_index],
            author_id=leads[team_index],
            origin=ObjectiveOrigin.EXEC if level == "Company" else ObjectiveOrigin.TEAM,
            commitment=Commitment.COMMITTED if rng.random() < 0.3 else Commitment.ASPIRATIONAL,
            visibility=visibility,
            tags=json.dumps([]),
            status=ObjectiveStatus.ACTIVE,
            weight=1.0,
            parent_id=parent_id,
            updated_at=now,
        )
        add_key_results(objective_id, leads[team_index])
        return objective_id

    check_ins = 0
    key_results = 0
    last_kr_id = 0

    def add_key_results(objective_id: int, author_id: int) -> None:
        nonlocal check_ins, key_results, last_kr_id
        for position in range(KEY_RESULTS_PER_OBJECTIVE):
            kr_id = ids.take("key_results")
            start = float(rng.randint(0, 100))
            decrease = rng.random() < 0.2
            span = float(rng.randint(10, 200))
            target = start - min(span, start) if decrease else start + span
            if decrease and target == start:
                target = start + span
                decrease = False
            rollup = Rollup.SUM if rng.random() < 0.1 else Rollup.LAST
            count = CHECK_INS_PER_KEY_RESULT
            value = start
            agg_sum = 0.0
            agg_min: float | None = None
            agg_max: float | None = None
            fit_t = fit_tt = fit_tv = 0.0
            last_value: float | None = None
            last_at: dt.datetime | None = None
            pace = rng.uniform(0.2, 1.3) * (target - start) / (count * 1.6)
            for step in range(count):
                value = round(value + pace * rng.uniform(0.2, 1.8), 3)
                # Sums count small increments, so their values are small too.
                recorded = round(abs(pace), 3) if rollup == Rollup.SUM else value
                measured_at = cycle_start + dt.timedelta(days=step * CHECK_IN_SPACING_DAYS, hours=9)
                check_in_id = ids.take("check_ins")
                rows.add(
                    meta["check_ins"],
                    id=check_in_id,
                    organization_id=org_id,
                    created_at=measured_at,
                    key_result_id=kr_id,
                    value=recorded,
                    note="",
                    confidence=0.7,
                    measured_at=measured_at,
                    author_id=author_id,
                    idempotency_key=None,
                    after_cycle_end=False,
                )
                t = (measured_at - cycle_start).total_seconds() / 86400
                agg_sum += recorded
                agg_min = recorded if agg_min is None else min(agg_min, recorded)
                agg_max = recorded if agg_max is None else max(agg_max, recorded)
                fit_t += t
                fit_tt += t * t
                fit_tv += t * recorded
                last_value, last_at = recorded, measured_at
            check_ins += count
            key_results += 1
            last_kr_id = kr_id
            rows.add(
                meta["key_results"],
                id=kr_id,
                organization_id=org_id,
                created_at=now,
                objective_id=objective_id,
                position=position,
                title=f"Move metric {kr_id} from {start:g} to {target:g}",
                metric_name=f"metric_{kr_id}",
                unit="count",
                start_value=start,
                target_value=target,
                lift_value=None,
                direction=Direction.DECREASE if decrease else Direction.INCREASE,
                calculation_type=CalculationType.ABSOLUTE_TARGET,
                tracking_frequency=TrackingFrequency.WEEKLY,
                rollup=rollup,
                counter_metric=position == KEY_RESULTS_PER_OBJECTIVE - 1 and rng.random() < 0.1,
                weight=1.0,
                owner_id=author_id,
                removed=False,
                checkin_count=count,
                value_sum=agg_sum,
                value_min=agg_min,
                value_max=agg_max,
                last_value=last_value,
                last_measured_at=last_at,
                fit_sum_t=fit_t,
                fit_sum_tt=fit_tt,
                fit_sum_v=agg_sum,
                fit_sum_tv=fit_tv,
                fit_count=count,
            )

    for _ in range(company_count):
        company_objectives.append(add_objective(0, None, "Company"))
    for i in range(department_count):
        dept = departments[i % len(departments)]
        parent = company_objectives[i % len(company_objectives)]
        objectives_of_department[dept].append(add_objective(dept, parent, "Department"))
    sample_objective_id = 0
    chosen_department = departments[0]
    for i in range(team_count):
        team_index = teams_below[i % len(teams_below)]
        dept = _department_of(team_index, parents, depths)
        candidates = objectives_of_department[dept] or company_objectives
        objective_id = add_objective(team_index, candidates[i % len(candidates)], "Team")
        if dept == chosen_department and not sample_objective_id:
            sample_objective_id = objective_id
    if not sample_objective_id:
        sample_objective_id = objectives_of_department[chosen_department][0]

    member_id, member_email = first_member[chosen_department]
    return GeneratedOrg(
        spec=spec,
        organization_id=org_id,
        cycle_id=cycle_id,
        root_team_id=team_ids[0],
        department_team_id=team_ids[chosen_department],
        exec_user_id=exec_id,
        exec_email=exec_email,
        member_user_id=member_id,
        member_email=member_email,
        leaf_team_id=team_ids[max(i for i in teams_below if i not in set(p for p in parents if p is not None))],
        sample_objective_id=sample_objective_id,
        sample_key_result_id=last_kr_id,
        objective_count=spec.objectives,
        key_result_count=key_results,
        check_in_count=check_ins,
        team_count=len(team_ids),
    )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, str):
        return str(value)  # StrEnum members become plain text
    return value


def _write_sqlite(path: str, rows: _Rows, order: Iterable[Table]) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = OFF")
        with connection:
            for table in order:
                data = rows.tables.get(table.name, [])
                if not data:
                    continue
                columns = rows.columns(table)
                sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                connection.executemany(sql, ([_sqlite_value(v) for v in row] for row in data))
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _postgres_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, str):
        return str(value)
    return value


def _write_postgres(url: str, rows: _Rows, order: Iterable[Table], last_ids: dict[str, int]) -> None:
    import psycopg

    plain = make_url(sync_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        with connection.cursor() as cursor:
            for table in order:
                data = rows.tables.get(table.name, [])
                if not data:
                    continue
                columns = rows.columns(table)
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row([_postgres_value(v) for v in row])
            # Ids were assigned here: move each sequence past them so the server's inserts do not collide.
            for table_name, last in last_ids.items():
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), %s)",
                    (max(last, 1),),
                )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


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
    today = today or dt.datetime.now(dt.UTC).date()
    now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    rng = random.Random(SEED)
    rows = _Rows(now)
    ids = _Ids()
    dataset = Dataset(url=url)
    for spec in org_specs(scale):
        dataset.orgs[spec.label] = _generate_org(rows, ids, rng, spec, today, now)
    order = list(models.Base.metadata.sorted_tables)
    if url.startswith("sqlite"):
        _write_sqlite(make_url(url).database or "", rows, order)
    else:
        _write_postgres(url, rows, order, ids.last())
    dataset.seconds = time.perf_counter() - started
    return dataset
