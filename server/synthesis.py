"""Synthesis of large organizations: deterministic, written with the drivers' bulk paths.

`okr demo --objectives N` adds one to a database that already serves the demo; the benchmarks
(tests/bench/generator.py) fill an emptied database with three. Rows are built as plain tuples with
ids assigned here and written with sqlite3 `executemany` or PostgreSQL `COPY`: building a million ORM
objects would take longer than the whole benchmark. The key result aggregate columns are filled
directly, exactly as `fold_check_in` would leave them, so reads see the same figures a live server
would have computed.

The values come from one seeded RNG; only the cycle dates follow the calendar (the cycle is always
running "now"), so health and projections look like a real mid-quarter tree.

Ids continue after those already in the database, read before building. Nothing else may write to
the same tables meanwhile (seed before serving): a server inserting in between would take ids this
module has already handed out, and the write would then fail on the primary key, leaving nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from server.database import sync_url
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
KEY_RESULTS_PER_OBJECTIVE = 4
CHECK_INS_PER_KEY_RESULT = 25
MEMBERS_PER_TEAM = 5
CHECK_IN_SPACING_DAYS = 2
# Rows per progress report and per write batch: often enough for a smooth bar, rarely enough that
# redrawing it costs nothing next to the work.
PROGRESS_STEP = 5_000

Progress = Callable[[int], None]

LARGE_DEMO_ORGANIZATION = "Globex (large demo)"
LARGE_DEMO_DOMAIN = "large.demo.test"

# The tables written; ids continue after the highest one each of them holds.
_TABLES = (
    "organizations",
    "users",
    "memberships",
    "teams",
    "team_members",
    "cycles",
    "objectives",
    "key_results",
    "check_ins",
)


@dataclass(frozen=True)
class Seat:
    """Where a generated person sits: `team` None for the admin and the execs (`number` counts them
    per role), else the team's index (0 is the root team) and `number` the chair, 0 being the lead."""

    role: Role
    number: int
    team: int | None = None


@dataclass(frozen=True)
class Person:
    subject: str
    email: str
    name: str


# (seat, the user's id) -> who sits there. The id lets a caller derive subjects from it.
PeopleNamer = Callable[[Seat, int], Person]


@dataclass(frozen=True)
class OrganizationSpec:
    """One organization to synthesize; `label` names it to the caller, `name` to its people."""

    label: str
    name: str
    domain: str
    issuer: str
    teams: int
    objectives: int
    people: PeopleNamer
    cycle_name: str = "Quarter in progress"
    description: str = "A synthesized objective."
    motivation: str = "Because a large organization needs a realistic tree."


@dataclass
class GeneratedOrg:
    spec: OrganizationSpec
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


def row_count(spec: OrganizationSpec) -> int:
    """How many rows `spec` becomes, across every table."""
    people = 3 + spec.teams * MEMBERS_PER_TEAM
    key_results = spec.objectives * KEY_RESULTS_PER_OBJECTIVE
    # organization, users, memberships, teams, team members, cycle, objectives, key results, check-ins
    return (
        1
        + people * 2
        + spec.teams
        + spec.teams * MEMBERS_PER_TEAM
        + 1
        + spec.objectives
        + key_results * (1 + CHECK_INS_PER_KEY_RESULT)
    )


def progress_total(specs: Iterable[OrganizationSpec]) -> int:
    """What `add_organizations` advances its progress by in all: every row once built, once written."""
    return 2 * sum(row_count(spec) for spec in specs)


def large_demo_spec(objectives: int, issuer: str) -> OrganizationSpec:
    """The large demo organization, sized like the benchmark's: a team per 50 objectives, 12 at least.

    Its people sign in at the demo's issuer with their whole email as subject, because the small
    demo's people already hold the bare local parts (`admin`, `ceo`, ...) there.
    """
    return OrganizationSpec(
        label="large",
        name=LARGE_DEMO_ORGANIZATION,
        domain=LARGE_DEMO_DOMAIN,
        issuer=issuer,
        teams=max(12, round(objectives / 50)),
        objectives=objectives,
        people=_demo_person,
        description="Seeded by `okr demo --objectives`.",
    )


_FIRST_NAMES = (
    "Alex", "Blair", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Indy", "Jules", "Kai", "Lane", "Morgan",
    "Noa", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor", "Uma", "Val", "Wren", "Xan", "Yael", "Zion",
    "Ari", "Bo", "Cam", "Drew", "Emery", "Finley",
)  # fmt: skip
_LAST_NAMES = (
    "Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Larsen",
    "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Xu",
    "Yilmaz", "Zhang", "Adler", "Brooks", "Costa", "Duarte", "Ekstrom", "Flores",
)  # fmt: skip


def _demo_person(seat: Seat, user_id: int) -> Person:
    """Demo-like people: `ceo@large.demo.test`, `casey.diaz@large.demo.test`, named after their address."""
    if seat.team is None:
        local, name = {
            (Role.ADMIN, 0): ("admin", "Greta Admin"),
            (Role.EXEC, 0): ("ceo", "Gideon Chief"),
            (Role.EXEC, 1): ("coo", "Olga Operations"),
        }[(seat.role, seat.number)]
    else:
        ordinal = seat.team * MEMBERS_PER_TEAM + seat.number
        first = _FIRST_NAMES[ordinal % len(_FIRST_NAMES)]
        last = _LAST_NAMES[ordinal // len(_FIRST_NAMES) % len(_LAST_NAMES)]
        # Past every first-last pair the names repeat, so the address takes a number to stay unique.
        lap = ordinal // (len(_FIRST_NAMES) * len(_LAST_NAMES))
        local = f"{first}.{last}{lap + 1 if lap else ''}".lower()
        name = f"{first} {last}"
    email = f"{local}@{LARGE_DEMO_DOMAIN}"
    return Person(subject=email, email=email, name=name)


def organization_named(url: str, name: str) -> tuple[int, int] | None:
    """(id, objective count) of the organization called `name`, if there is one."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            org_id = connection.execute(
                select(models.Organization.id).where(models.Organization.name == name)
            ).scalar_one_or_none()
            if org_id is None:
                return None
            objectives = connection.execute(
                select(func.count()).select_from(models.Objective).where(models.Objective.organization_id == org_id)
            ).scalar_one()
            return org_id, objectives
    finally:
        engine.dispose()


def add_organizations(
    url: str,
    specs: Sequence[OrganizationSpec],
    *,
    today: dt.date | None = None,
    seed: int = SEED,
    progress: Progress | None = None,
) -> list[GeneratedOrg]:
    """Synthesize `specs` after the rows already in the migrated database at `url`, in one transaction.

    `progress` is advanced by `progress_total(specs)` in all, as rows are built and then written.
    """
    report = progress or (lambda _: None)
    today = today or dt.datetime.now(dt.UTC).date()
    now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    rng = random.Random(seed)
    ids = _Ids(_last_ids(url))
    rows = _Rows(now, report)
    generated = [_generate_org(rows, ids, rng, spec, today, now) for spec in specs]
    rows.report_pending()
    # Parents before children: PostgreSQL checks the foreign keys of each COPY as it ends.
    order = [table for table in models.Base.metadata.sorted_tables if table.name in _TABLES]
    if make_url(url).get_backend_name() == "sqlite":
        _write_sqlite(make_url(url).database or "", rows, order, report)
    else:
        _write_postgres(url, rows, order, ids.last(), report)
    return generated


def _last_ids(url: str) -> dict[str, int]:
    """The highest id each table has used. On PostgreSQL the sequence may be past the rows (rolled
    back or deleted ones); those ids are skipped too, as the event log may still name deleted rows."""
    engine = create_engine(sync_url(url))
    last: dict[str, int] = {}
    try:
        with engine.connect() as connection:
            for table in _TABLES:
                highest = connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()  # noqa: S608
                if engine.dialect.name == "postgresql":
                    handed_out = connection.execute(
                        text("SELECT pg_sequence_last_value(pg_get_serial_sequence(:table, 'id')::regclass)"),
                        {"table": table},
                    ).scalar_one()
                    highest = max(highest, handed_out or 0)
                last[table] = int(highest)
    finally:
        engine.dispose()
    return last


class _Ids:
    """Per-table id counters shared by every organization of one run, continuing after `last`."""

    def __init__(self, last: dict[str, int]) -> None:
        self._next = {table: value + 1 for table, value in last.items()}
        self._taken: set[str] = set()

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        self._taken.add(table)
        return value

    def last(self) -> dict[str, int]:
        """The last id taken, for each table that took any."""
        return {name: self._next[name] - 1 for name in self._taken}


class _Rows:
    """Rows per table as full tuples in the table's column order, defaults filled from the model."""

    def __init__(self, now: dt.datetime, progress: Progress) -> None:
        self.now = now
        self.tables: dict[str, list[tuple[Any, ...]]] = {}
        self._defaults: dict[str, tuple[list[str], dict[str, Any]]] = {}
        self._progress = progress
        self._pending = 0

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
        self._pending += 1
        if self._pending >= PROGRESS_STEP:
            self.report_pending()

    def report_pending(self) -> None:
        if self._pending:
            self._progress(self._pending)
            self._pending = 0

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
    rows: _Rows, ids: _Ids, rng: random.Random, spec: OrganizationSpec, today: dt.date, now: dt.datetime
) -> GeneratedOrg:
    meta = models.Base.metadata.tables
    org_id = ids.take("organizations")
    rows.add(meta["organizations"], id=org_id, name=spec.name, email_domains=json.dumps([spec.domain]))

    def add_user(seat: Seat) -> tuple[int, str]:
        user_id = ids.take("users")
        person = spec.people(seat, user_id)
        rows.add(
            meta["users"], id=user_id, issuer=spec.issuer, subject=person.subject, email=person.email, name=person.name
        )
        rows.add(
            meta["memberships"], id=ids.take("memberships"), organization_id=org_id, user_id=user_id, role=seat.role
        )
        return user_id, person.email

    add_user(Seat(Role.ADMIN, 0))
    exec_id, exec_email = add_user(Seat(Role.EXEC, 0))
    add_user(Seat(Role.EXEC, 1))

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
        for chair in range(MEMBERS_PER_TEAM):
            user_id, email = add_user(Seat(Role.MEMBER, chair, index))
            rows.add(
                meta["team_members"],
                id=ids.take("team_members"),
                organization_id=org_id,
                team_id=team_ids[index],
                user_id=user_id,
                role=TeamRole.LEAD if chair == 0 else TeamRole.MEMBER,
            )
            if chair == 0:
                leads.append(user_id)
            elif chair == 1:
                first_member[index] = (user_id, email)

    starts_on, ends_on = _cycle_dates(today)
    cycle_id = ids.take("cycles")
    rows.add(
        meta["cycles"],
        id=cycle_id,
        organization_id=org_id,
        name=spec.cycle_name,
        kind=CycleKind.QUARTER,
        starts_on=starts_on,
        ends_on=ends_on,
        phase=CyclePhase.ACTIVE,
    )
    cycle_start = dt.datetime.combine(starts_on, dt.time(), tzinfo=dt.UTC)

    # Three levels: company objectives on the root team, department ones aligned to them, team ones
    # aligned to their department's. The clamp only bites below ten objectives, where the shares
    # would otherwise add up to more than asked for.
    company_count = max(1, round(spec.objectives * 0.02))
    department_count = min(max(1, round(spec.objectives * 0.18)), spec.objectives - company_count)
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
            description=spec.description,
            motivation=spec.motivation,
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
        sample_objective_id = (objectives_of_department[chosen_department] or company_objectives)[0]

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


def _batches(data: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(data), PROGRESS_STEP):
        yield data[start : start + PROGRESS_STEP]


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


def _write_sqlite(path: str, rows: _Rows, order: Iterable[Table], progress: Progress) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL syncs only at checkpoints: as fast as OFF for one big transaction, and
        # an existing database survives a crash.
        connection.execute("PRAGMA synchronous = NORMAL")
        # IMMEDIATE: take the write lock before the first insert, so a busy database waits here
        # rather than failing halfway.
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in order:
                columns = rows.columns(table)
                sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
                for batch in _batches(rows.tables.get(table.name, [])):
                    connection.executemany(sql, ([_sqlite_value(v) for v in row] for row in batch))
                    progress(len(batch))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _postgres_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, str):
        return str(value)
    return value


def _write_postgres(
    url: str, rows: _Rows, order: Iterable[Table], last_ids: dict[str, int], progress: Progress
) -> None:
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
                    for batch in _batches(data):
                        for row in batch:
                            copy.write_row([_postgres_value(v) for v in row])
                        progress(len(batch))
            # Ids were assigned here: move each sequence past them so the server's inserts do not collide.
            for table_name, last in last_ids.items():
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), %s)",
                    (max(last, 1),),
                )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
