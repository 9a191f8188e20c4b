"""Spreadsheets in and out: CSV import of the common OKR sheet, CSV and JSON export of a cycle.

The sheet has one row per key result; consecutive rows with the same objective and team form one
objective. Columns: objective, team, owner, key result, metric, start, target, unit, direction.
Import checks every row first and reports each bad one with its line number and reason; nothing is
written when any row is bad, unless the caller asks to skip bad rows. An exported CSV imports back
into another cycle as the same objectives and key results.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.computation import progress as figures
from workflow.enums import CyclePhase, Direction, ObjectiveOrigin, ObjectiveStatus
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.policies import objective_visible
from workflow.services.events import record_event
from workflow.viewer import Viewer

COLUMNS = ("objective", "team", "owner", "key result", "metric", "start", "target", "unit", "direction")
REQUIRED = ("objective", "key result", "start", "target")
IMPORTABLE_PHASES = (CyclePhase.PLANNING, CyclePhase.NEGOTIATING, CyclePhase.ACTIVE)
DIRECTIONS = {
    "": Direction.INCREASE,
    "increase": Direction.INCREASE,
    "up": Direction.INCREASE,
    "decrease": Direction.DECREASE,
    "down": Direction.DECREASE,
}
# Spreadsheet apps run a cell starting with these as a formula; exports prefix text cells with "'".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_TITLE = 300

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    objectives: int = 0
    key_results: int = 0
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: bool = False


@dataclass(frozen=True)
class _Row:
    line: int
    objective: str
    team_id: int | None
    owner_id: int | None
    key_result: str
    metric: str
    start: float | None
    target: float | None
    unit: str
    direction: Direction


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _untext(value: str) -> str:
    """Undo the export's formula guard: "'=x" is the text "=x"."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _number(raw: str, column: str, problems: list[str]) -> float | None:
    text = raw.strip()
    if not text:
        problems.append(f"{column} is empty")
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{column} {raw.strip()!r} is not a number")
        return None
    if not math.isfinite(value):
        problems.append(f"{column} {raw.strip()!r} is not a finite number")
        return None
    return value


async def _lookup(session: AsyncSession, organization_id: int) -> tuple[dict[str, int], dict[str, int]]:
    teams = (
        await session.execute(
            select(models.Team.name, models.Team.id).where(models.Team.organization_id == organization_id)
        )
    ).tuples()
    people = (
        await session.execute(
            select(models.User.email, models.User.id)
            .join(models.Membership, models.Membership.user_id == models.User.id)
            .where(models.Membership.organization_id == organization_id)
        )
    ).tuples()
    return {name.strip().lower(): id_ for name, id_ in teams}, {email.lower(): id_ for email, id_ in people}


def _parse(
    text: str, teams: dict[str, int], people: dict[str, int], progress: Progress | None
) -> tuple[list[_Row], list[RowProblem], int]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        return [], [RowProblem(1, "the file is empty")], 0
    positions = {_header_key(name): i for i, name in enumerate(header)}
    missing = [c for c in REQUIRED if _header_key(c) not in positions]
    if missing:
        return [], [RowProblem(1, f"missing column(s): {', '.join(missing)}")], 0

    rows: list[_Row] = []
    problems: list[RowProblem] = []
    count = 0
    line = reader.line_num
    for record in reader:
        start_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        count += 1

        def cell(column: str, record: list[str] = record) -> str:
            i = positions.get(_header_key(column))
            return _untext(record[i]) if i is not None and i < len(record) else ""

        reasons: list[str] = []
        objective = cell("objective")
        if not objective:
            reasons.append("objective is empty")
        elif len(objective) > MAX_TITLE:
            reasons.append(f"objective is longer than {MAX_TITLE} characters")
        team_name, owner_email = cell("team"), cell("owner")
        team_id = teams.get(team_name.lower()) if team_name else None
        if team_name and team_id is None:
            reasons.append(f"no team named {team_name!r}")
        owner_id = people.get(owner_email.lower()) if owner_email else None
        if owner_email and owner_id is None:
            reasons.append(f"no member with the email {owner_email!r}")
        if not team_name and not owner_email:
            reasons.append("an objective needs a team or an owner")
        key_result = cell("key result")
        start = target = None
        if key_result:
            if len(key_result) > MAX_TITLE:
                reasons.append(f"key result is longer than {MAX_TITLE} characters")
            start = _number(cell("start"), "start", reasons)
            target = _number(cell("target"), "target", reasons)
        direction = DIRECTIONS.get(cell("direction").lower())
        if direction is None:
            reasons.append(f"direction {cell('direction')!r} is not INCREASE or DECREASE")
        if reasons:
            problems.append(RowProblem(start_line, "; ".join(reasons)))
        else:
            assert direction is not None
            rows.append(
                _Row(
                    line=start_line,
                    objective=objective,
                    team_id=team_id,
                    owner_id=owner_id,
                    key_result=key_result,
                    metric=cell("metric"),
                    start=start,
                    target=target,
                    unit=cell("unit"),
                    direction=direction,
                )
            )
        if progress is not None:
            progress(1)
    return rows, problems, count


async def find_cycle(session: AsyncSession, organization_id: int, name: str) -> models.Cycle:
    cycle = (
        await session.execute(
            select(models.Cycle).where(models.Cycle.organization_id == organization_id, models.Cycle.name == name)
        )
    ).scalar_one_or_none()
    if cycle is None:
        raise NotFound("cycle", "cycle")
    return cycle


async def import_csv(
    session: AsyncSession,
    *,
    cycle: models.Cycle,
    text: str,
    actor: Viewer | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a sheet into `cycle` as DRAFT objectives. `actor` None is the command line (an operator)."""
    if actor is not None and not actor.is_exec:
        raise Forbidden("Only admins and execs import OKRs.")
    if actor is not None and actor.organization_id != cycle.organization_id:
        raise NotFound("cycle", "cycleId")
    if cycle.phase not in IMPORTABLE_PHASES:
        raise ValidationFailed(f"A cycle that is {cycle.phase} takes no new objectives.", "cycle")
    teams, people = await _lookup(session, cycle.organization_id)
    rows, problems, count = _parse(text, teams, people, progress)
    report = ImportReport(rows=count, problems=problems)
    if (problems and not skip_bad_rows) or (problems and problems[0].line == 1 and count == 0):
        return report

    objectives: dict[tuple[str, int | None, int | None], models.Objective] = {}
    positions: dict[int, int] = {}
    for row in rows:
        # Team-owned objectives group by team; personal ones (no team) by their owner.
        group = (row.objective, row.team_id, None if row.team_id else row.owner_id)
        objective = objectives.get(group)
        if objective is None:
            objective = models.Objective(
                organization_id=cycle.organization_id,
                cycle_id=cycle.id,
                title=row.objective,
                owner_team_id=row.team_id,
                owner_user_id=None if row.team_id else row.owner_id,
                author_id=actor.user_id if actor else None,
                origin=ObjectiveOrigin.EXEC if actor is None or actor.is_exec else ObjectiveOrigin.TEAM,
                status=ObjectiveStatus.DRAFT,
                tags=[],
            )
            session.add(objective)
            await session.flush()
            objectives[group] = objective
            positions[objective.id] = 0
            await record_event(
                session,
                organization_id=cycle.organization_id,
                actor=actor,
                kind="objective.imported",
                subject_type="Objective",
                subject_id=objective.id,
                objective_id=objective.id,
                cycle_id=cycle.id,
                version=objective.version,
                note=f"Imported from a spreadsheet (line {row.line}).",
            )
        if not row.key_result:
            continue
        assert row.start is not None
        assert row.target is not None
        session.add(
            models.KeyResult(
                organization_id=cycle.organization_id,
                objective_id=objective.id,
                position=positions[objective.id],
                title=row.key_result,
                metric_name=row.metric,
                unit=row.unit,
                start_value=row.start,
                target_value=row.target,
                direction=row.direction,
                owner_id=row.owner_id if row.team_id else None,
            )
        )
        positions[objective.id] += 1
        report.key_results += 1
    await session.flush()
    report.objectives = len(objectives)
    report.imported = True
    return report


@dataclass(frozen=True)
class _ExportRow:
    objective: models.Objective
    team: str
    owner: str
    key_result: models.KeyResult | None


async def _export_rows(session: AsyncSession, cycle: models.Cycle, viewer: Viewer | None) -> list[_ExportRow]:
    """Rows of a cycle in sheet order; with a viewer, only what that viewer may see (in the SQL)."""
    stmt = select(models.Objective).where(
        models.Objective.cycle_id == cycle.id, models.Objective.status != ObjectiveStatus.CANCELLED
    )
    if viewer is not None:
        stmt = stmt.where(objective_visible(viewer))
    objectives = list((await session.execute(stmt.order_by(models.Objective.id))).scalars())
    ids = [o.id for o in objectives]
    krs = list(
        (
            await session.execute(
                select(models.KeyResult)
                .where(models.KeyResult.objective_id.in_(ids), models.KeyResult.removed.is_(False))
                .order_by(models.KeyResult.objective_id, models.KeyResult.position, models.KeyResult.id)
            )
        ).scalars()
    )
    teams = dict(
        (
            await session.execute(
                select(models.Team.id, models.Team.name).where(models.Team.organization_id == cycle.organization_id)
            )
        )
        .tuples()
        .all()
    )
    user_ids = {o.owner_user_id for o in objectives} | {k.owner_id for k in krs}
    emails = dict(
        (await session.execute(select(models.User.id, models.User.email).where(models.User.id.in_(user_ids))))
        .tuples()
        .all()
    )
    by_objective: dict[int, list[models.KeyResult]] = {}
    for kr in krs:
        by_objective.setdefault(kr.objective_id, []).append(kr)
    rows: list[_ExportRow] = []
    for objective in objectives:
        team = teams.get(objective.owner_team_id, "") if objective.owner_team_id else ""
        objective_owner = emails.get(objective.owner_user_id, "") if objective.owner_user_id else ""
        entries: list[models.KeyResult | None] = list(by_objective.get(objective.id, [])) or [None]
        for entry in entries:
            owner = emails.get(entry.owner_id, "") if entry is not None and entry.owner_id and team else objective_owner
            rows.append(_ExportRow(objective, team, owner, entry))
    return rows


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _number_cell(value: float) -> str:
    return repr(int(value)) if value.is_integer() else repr(value)


async def export_csv(
    session: AsyncSession, cycle: models.Cycle, viewer: Viewer | None = None, progress: Progress | None = None
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in await _export_rows(session, cycle, viewer):
        kr = row.key_result
        writer.writerow(
            [
                _text_cell(row.objective.title),
                _text_cell(row.team),
                _text_cell(row.owner),
                _text_cell(kr.title) if kr else "",
                _text_cell(kr.metric_name) if kr else "",
                _number_cell(kr.start_value) if kr else "",
                _number_cell(figures.target_of(kr)) if kr else "",
                _text_cell(kr.unit) if kr else "",
                str(kr.direction) if kr else "",
            ]
        )
        if progress is not None:
            progress(1)
    return out.getvalue()


async def export_json(
    session: AsyncSession, cycle: models.Cycle, viewer: Viewer | None = None, progress: Progress | None = None
) -> str:
    """The cycle with its objectives, key results and today's figures, for tools that want more than the sheet."""
    objectives: dict[int, dict[str, Any]] = {}
    for row in await _export_rows(session, cycle, viewer):
        objective = row.objective
        entry = objectives.setdefault(
            objective.id,
            {
                "title": objective.title,
                "team": row.team or None,
                "owner": None if row.team else (row.owner or None),
                "status": str(objective.status),
                "commitment": str(objective.commitment),
                "visibility": str(objective.visibility),
                "tags": list(objective.tags),
                "score": objective.score,
                "keyResults": [],
            },
        )
        kr = row.key_result
        if kr is not None:
            entry["keyResults"].append(
                {
                    "title": kr.title,
                    "owner": row.owner or None,
                    "metric": kr.metric_name,
                    "unit": kr.unit,
                    "start": kr.start_value,
                    "target": figures.target_of(kr),
                    "direction": str(kr.direction),
                    "trackingFrequency": str(kr.tracking_frequency),
                    "currentValue": figures.current_value(kr),
                    "progress": figures.progress(kr),
                    "score": kr.score,
                }
            )
        if progress is not None:
            progress(1)
    document = {
        "cycle": {
            "name": cycle.name,
            "kind": str(cycle.kind),
            "startsOn": cycle.starts_on.isoformat(),
            "endsOn": cycle.ends_on.isoformat(),
            "phase": str(cycle.phase),
        },
        "objectives": list(objectives.values()),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


async def count_export_rows(session: AsyncSession, cycle: models.Cycle) -> int:
    """How many rows an export writes, for a progress bar's length."""
    return len(await _export_rows(session, cycle, None))


def problems_text(problems: Sequence[RowProblem] | Iterable[RowProblem]) -> str:
    return "\n".join(str(p) for p in problems)
