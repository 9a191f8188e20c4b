"""Plain Starlette endpoints the benchmarks compare GraphQL against, mounted in the same server process.

The server mounts these only when OKR_BENCH_ENDPOINTS=1 (see server/app.py); production never does.
Each floor does the work a hand-written endpoint would need for the same answer and nothing more:
authenticate the caller, read the same rows with SQLAlchemy Core (the viewer's visibility predicate
inside the SQL, as everywhere), compute the same figures with the same functions, `json.dumps` the same
shape. What remains between a floor and its GraphQL twin is the cost of the GraphQL layer.

`/bench/statements` reports (and resets) the number of SQL statements the process has issued, so the
harness can count the statements of one request.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from schema.ids import from_global_id, to_global_id
from server.auth import authenticate
from server.database import Database
from server.settings import Settings
from workflow import models
from workflow.computation import progress as figures
from workflow.policies import objective_visible, visible_objective_ids
from workflow.viewer import Viewer, descendants

OBJECTIVES = models.Objective.__table__
KEY_RESULTS = models.KeyResult.__table__
CYCLES = models.Cycle.__table__
TEAMS = models.Team.__table__
CHECK_INS = models.CheckIn.__table__
ORGANIZATIONS = models.Organization.__table__


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload).encode(), status_code=status, media_type="application/json")


def _pk(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


def _health_fields(progress_value: float, expected: float, started: bool) -> tuple[str, str]:
    health = figures.health(progress_value, expected, started)
    return str(health), str(figures.HEALTH_COLORS[health])


def routes(database: Database, settings: Settings) -> list[BaseRoute]:
    counter = {"statements": 0}
    least, greatest = (func.min, func.max) if database.is_sqlite else (func.least, func.greatest)

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        counter["statements"] += 1

    async def viewer_of(request: Request) -> Viewer | None:
        principal = await authenticate(request, settings, database.session)
        return principal.viewer if principal is not None else None

    async def statements(request: Request) -> Response:
        seen, counter["statements"] = counter["statements"], 0
        return _json({"statements": seen})

    async def node(request: Request) -> Response:
        viewer = await viewer_of(request)
        if viewer is None:
            return _json({"errors": [{"message": "Sign in to use the API."}]}, 401)
        body = await request.json()
        parsed = from_global_id(body["variables"]["id"])
        found: dict[str, Any] | None = None
        if parsed is not None and parsed[0] == "Objective":
            c = OBJECTIVES.c
            async with database.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(c.id, c.title, c.status, c.visibility, c.weight, c.version).where(
                            c.id == parsed[1], objective_visible(viewer)
                        )
                    )
                ).first()
            if row is not None:
                found = {
                    "id": to_global_id("Objective", row.id),
                    "title": row.title,
                    "status": row.status,
                    "visibility": row.visibility,
                    "weight": row.weight,
                    "version": row.version,
                }
        return _json({"data": {"node": found}})

    async def key_results_of(conn: AsyncConnection, objective_ids: list[int]) -> dict[int, list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        if not objective_ids:
            return grouped
        rows = await conn.execute(
            select(KEY_RESULTS)
            .where(KEY_RESULTS.c.objective_id.in_(objective_ids), KEY_RESULTS.c.removed.is_(False))
            .order_by(KEY_RESULTS.c.objective_id, KEY_RESULTS.c.position, KEY_RESULTS.c.id)
        )
        for kr in rows:
            grouped[kr.objective_id].append(kr)
        return grouped

    async def tree(request: Request) -> Response:
        viewer = await viewer_of(request)
        if viewer is None:
            return _json({"errors": [{"message": "Sign in to use the API."}]}, 401)
        body = await request.json()
        cycle_id = _pk(body["variables"]["cycleId"])
        today = dt.datetime.now(dt.UTC).date()
        c = OBJECTIVES.c
        async with database.engine.connect() as conn:
            cycle = (await conn.execute(select(CYCLES).where(CYCLES.c.id == cycle_id))).one()
            objectives = (
                await conn.execute(
                    select(c.id, c.title, c.parent_id)
                    .where(c.cycle_id == cycle_id, objective_visible(viewer))
                    .order_by(c.id)
                )
            ).all()
            krs = await key_results_of(conn, [o.id for o in objectives])
        expected = figures.expected_progress(cycle, today)  # type: ignore[arg-type]
        visible = {o.id for o in objectives}
        children: dict[int | None, list[Any]] = defaultdict(list)
        for o in objectives:
            children[o.parent_id if o.parent_id in visible else None].append(o)
        nodes: list[dict[str, Any]] = []
        stack: list[tuple[Any, int]] = [(o, 0) for o in reversed(children[None])]
        while stack:
            o, depth = stack.pop()
            own = krs.get(o.id, [])
            value = figures.objective_progress(own)
            health, color = _health_fields(value, expected, figures.objective_started(own))
            gid = to_global_id("Objective", o.id)
            parent = None if o.parent_id is None else to_global_id("Objective", o.parent_id)
            nodes.append(
                {
                    "id": gid,
                    "parentId": parent,
                    "depth": depth,
                    "restricted": False,
                    "objective": {
                        "id": gid,
                        "title": o.title,
                        "progress": value,
                        "health": health,
                        "color": color,
                        "parent": None if parent is None else {"id": parent},
                        "keyResults": [
                            {"id": to_global_id("KeyResult", kr.id), "progress": figures.progress(kr)} for kr in own
                        ],
                    },
                }
            )
            stack.extend((child, depth + 1) for child in reversed(children.get(o.id, [])))
        return _json({"data": {"alignmentTree": {"nodes": nodes}}})

    async def dashboard(request: Request) -> Response:
        viewer = await viewer_of(request)
        if viewer is None:
            return _json({"errors": [{"message": "Sign in to use the API."}]}, 401)
        body = await request.json()
        team_id = _pk(body["variables"]["teamId"])
        cycle_id = _pk(body["variables"]["cycleId"])
        latest_only = bool(body.get("latestOnly"))
        today = dt.datetime.now(dt.UTC).date()
        c = OBJECTIVES.c
        async with database.engine.connect() as conn:
            tree_rows = await conn.execute(
                select(TEAMS.c.id, TEAMS.c.parent_id).where(TEAMS.c.organization_id == viewer.organization_id)
            )
            subtree = descendants(dict(tree_rows.tuples().all()), {team_id})
            where = (c.cycle_id == cycle_id, c.owner_team_id.in_(subtree), objective_visible(viewer))
            total = (await conn.execute(select(func.count()).select_from(OBJECTIVES).where(*where))).scalar_one()
            objectives = (
                await conn.execute(select(c.id, c.title, c.status).where(*where).order_by(c.id).limit(100))
            ).all()
            cycle = (await conn.execute(select(CYCLES).where(CYCLES.c.id == cycle_id))).one()
            krs = await key_results_of(conn, [o.id for o in objectives])
        expected = figures.expected_progress(cycle, today)  # type: ignore[arg-type]
        edges = []
        for o in objectives:
            own = krs.get(o.id, [])
            if latest_only:
                key_results: list[dict[str, Any]] = [
                    {
                        "id": to_global_id("KeyResult", kr.id),
                        "title": kr.title,
                        "currentValue": figures.current_value(kr),
                    }
                    for kr in own
                ]
                edges.append(
                    {"node": {"id": to_global_id("Objective", o.id), "title": o.title, "keyResults": key_results}}
                )
                continue
            value = figures.objective_progress(own)
            key_results = []
            for kr in own:
                kr_progress = figures.progress(kr)
                completion = figures.projected_completion(kr, cycle)  # type: ignore[arg-type]
                key_results.append(
                    {
                        "id": to_global_id("KeyResult", kr.id),
                        "title": kr.title,
                        "currentValue": figures.current_value(kr),
                        "targetValue": figures.target_of(kr),
                        "progress": kr_progress,
                        "health": _health_fields(kr_progress, expected, kr.checkin_count > 0)[0],
                        "projectedValue": figures.projected_value(kr, cycle),  # type: ignore[arg-type]
                        "projectedCompletionOn": None if completion is None else completion.isoformat(),
                    }
                )
            edges.append(
                {
                    "node": {
                        "id": to_global_id("Objective", o.id),
                        "title": o.title,
                        "status": o.status,
                        "progress": value,
                        "health": _health_fields(value, expected, figures.objective_started(own))[0],
                        "keyResults": key_results,
                    }
                }
            )
        if latest_only:
            return _json({"data": {"objectives": {"edges": edges}}})
        return _json({"data": {"objectives": {"totalCount": total, "edges": edges}}})

    async def check_in(request: Request) -> Response:
        """The same writes as recordCheckIn: the check-in, the key result's aggregates, the org's data version."""
        viewer = await viewer_of(request)
        if viewer is None:
            return _json({"errors": [{"message": "Sign in to use the API."}]}, 401)
        body = await request.json()
        given = body["variables"]["input"]
        parsed = from_global_id(given["keyResultId"])
        assert parsed is not None
        now = dt.datetime.now(dt.UTC)
        async with database.engine.execution_options(okr_write=True).begin() as conn:
            kr = (
                await conn.execute(
                    select(KEY_RESULTS).where(
                        KEY_RESULTS.c.id == parsed[1],
                        KEY_RESULTS.c.objective_id.in_(visible_objective_ids(viewer)),
                    )
                )
            ).one()
            objective = (
                await conn.execute(select(OBJECTIVES.c.cycle_id).where(OBJECTIVES.c.id == kr.objective_id))
            ).one()
            cycle = (await conn.execute(select(CYCLES).where(CYCLES.c.id == objective.cycle_id))).one()
            value = float(given["value"])
            check_in_id = (
                await conn.execute(
                    insert(CHECK_INS)
                    .values(
                        organization_id=viewer.organization_id,
                        created_at=now,
                        key_result_id=kr.id,
                        value=value,
                        note=given.get("note") or "",
                        confidence=given.get("confidence"),
                        measured_at=now,
                        author_id=viewer.user_id,
                        idempotency_key=given.get("idempotencyKey"),
                        after_cycle_end=False,
                    )
                    .returning(CHECK_INS.c.id)
                )
            ).scalar_one()
            t = figures.day_offset(cycle, now)  # type: ignore[arg-type]
            updated = (
                await conn.execute(
                    update(KEY_RESULTS)
                    .where(KEY_RESULTS.c.id == kr.id)
                    .values(
                        checkin_count=KEY_RESULTS.c.checkin_count + 1,
                        value_sum=KEY_RESULTS.c.value_sum + value,
                        value_min=least(func.coalesce(KEY_RESULTS.c.value_min, value), value),
                        value_max=greatest(func.coalesce(KEY_RESULTS.c.value_max, value), value),
                        last_value=value,
                        last_measured_at=now,
                        fit_count=KEY_RESULTS.c.fit_count + 1,
                        fit_sum_t=KEY_RESULTS.c.fit_sum_t + t,
                        fit_sum_tt=KEY_RESULTS.c.fit_sum_tt + t * t,
                        fit_sum_v=KEY_RESULTS.c.fit_sum_v + value,
                        fit_sum_tv=KEY_RESULTS.c.fit_sum_tv + t * value,
                    )
                    .returning(*KEY_RESULTS.c)
                )
            ).one()
            await conn.execute(
                update(ORGANIZATIONS)
                .where(ORGANIZATIONS.c.id == viewer.organization_id)
                .values(data_version=ORGANIZATIONS.c.data_version + 1)
            )
        return _json(
            {
                "data": {
                    "recordCheckIn": {
                        "checkIn": {"id": to_global_id("CheckIn", check_in_id), "value": value},
                        "keyResult": {
                            "id": to_global_id("KeyResult", kr.id),
                            "currentValue": figures.current_value(updated),  # type: ignore[arg-type]
                            "progress": figures.progress(updated),  # type: ignore[arg-type]
                        },
                        "userErrors": [],
                    }
                }
            }
        )

    return [
        Route("/bench/statements", statements, methods=["GET"]),
        Route("/bench/raw/node", node, methods=["POST"]),
        Route("/bench/raw/tree", tree, methods=["POST"]),
        Route("/bench/raw/dashboard", dashboard, methods=["POST"]),
        Route("/bench/raw/check-in", check_in, methods=["POST"]),
    ]
