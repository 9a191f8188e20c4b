"""`python -m tests.bench [--scale S] [--only KEY]`: every figure of issue 9, on SQLite and PostgreSQL.

Seeds its own data (tests/bench/generator.py), starts the server as production runs it, measures each
figure side by side with its floor, prints a table and writes bench-results.json. PostgreSQL runs
when DATABASE_URL points at one; that database is emptied and refilled, as the test suite does.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.settings import _database_url
from tests.bench import figures
from tests.bench.credentials import prepare
from tests.bench.figures import Bench, Figure
from tests.bench.generator import generate
from tests.bench.harness import ROOT, BenchError, Call, Client, ServerProcess

# In the order they run; the check-ins last because they write. (tree_peak_mb restarts the server
# so that its peak memory is the tree's alone.)
FIGURES: dict[str, Callable[[Bench], Figure]] = {
    "tree_vs_floor": figures.tree_vs_floor,
    "tree_scale": figures.tree_scale,
    "tree_peak_mb": figures.tree_peak_mb,
    "dashboard_vs_floor": figures.dashboard_vs_floor,
    "point_query_vs_raw": figures.point_query_vs_raw,
    "statements_per_request": figures.statements_per_request,
    "dashboard_vs_postgraphile": figures.dashboard_vs_postgraphile,
    "checkin_scale": figures.checkin_scale,
    "checkin_vs_raw": figures.checkin_vs_raw,
}
POSTGRES_ONLY = {"dashboard_vs_postgraphile"}


def _engines(requested: list[str] | None) -> dict[str, str]:
    engines: dict[str, str] = {}
    wanted = requested or ["sqlite", "postgresql"]
    if "sqlite" in wanted:
        folder = Path(tempfile.mkdtemp(prefix="okr-bench-"))
        engines["sqlite"] = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    raw = os.environ.get("DATABASE_URL", "")
    if "postgresql" in wanted and raw.startswith("postgres"):
        engines["postgresql"] = _database_url({"DATABASE_URL": raw})
    return engines


def _run_engine(engine: str, url: str, args: argparse.Namespace, keys: list[str]) -> list[Figure]:
    print(f"\n== {engine}: generating scale {args.scale} ...", flush=True)
    dataset = generate(url, args.scale)
    main = dataset.org("main")
    print(
        f"   {main.objective_count} objectives, {main.key_result_count} key results, {main.check_in_count} check-ins, "
        f"{main.team_count} teams (+ {len(dataset.orgs) - 1} smaller orgs) in {dataset.seconds:.1f} s",
        flush=True,
    )
    users = {}
    for org in dataset.orgs.values():
        users[org.exec_email] = (org.exec_user_id, org.organization_id)
        users[org.member_email] = (org.member_user_id, org.organization_id)
    credentials = prepare(url, users)
    results: list[Figure] = []
    with ServerProcess(url, {}) as server:
        client = Client(server.base_url)
        if not _accepted(client, credentials.headers(main.exec_email)):
            client.close()
            raise BenchError(f"the server refused the benchmark's access token; see {server.log.name}")
        print(f"   signing requests with: {credentials.mode}", flush=True)
        bench = Bench(
            engine=engine,
            scale=args.scale,
            rounds=args.rounds,
            load_seconds=args.load_seconds,
            dataset=dataset,
            credentials=credentials,
            server=server,
            client=client,
        )
        try:
            for key in keys:
                if key in POSTGRES_ONLY and engine != "postgresql":
                    continue
                started = time.perf_counter()
                try:
                    figure = FIGURES[key](bench)
                except Exception as error:  # a broken figure is reported, the others still run
                    figure = bench.failed(key, key, "", "", f"{type(error).__name__}: {error}")
                figure.details["auth"] = credentials.mode
                results.append(figure)
                print(f"   {_row(figure)}   ({time.perf_counter() - started:.1f} s)", flush=True)
        finally:
            client.close()
    return results


def _accepted(client: Client, headers: dict[str, str]) -> bool:
    try:
        client.send(Call("/graphql", {"query": "{ viewer { id } }"}, headers))
    except BenchError:
        return False
    return True


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms"
    if unit == "req/s":
        return f"{value:.0f}/s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g}"


def _row(figure: Figure) -> str:
    ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}"
    verdict = "PASS" if figure.passed else "FAIL"
    note = f"  {figure.note}" if figure.note else ""
    return (
        f"{figure.key:<26} {figure.engine:<10} {_fmt(figure.value, figure.unit):>12} "
        f"{_fmt(figure.comparison, figure.unit):>12} {ratio:>6} {figure.target:>9} {verdict}{note}"
    )


def table(results: list[Figure]) -> str:
    header = f"{'figure':<26} {'engine':<10} {'measured':>12} {'compared':>12} {'ratio':>6} {'target':>9} result"
    return "\n".join([header, "-" * len(header), *(_row(f) for f in results)])


def markdown(results: list[Figure]) -> str:
    lines = [
        "| figure | engine | measured | compared with | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in results:
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}"
        lines.append(
            f"| `{f.key}` | {f.engine} | {_fmt(f.value, f.unit)} | {_fmt(f.comparison, f.unit)} | {ratio} | "
            f"{f.target} | {'pass' if f.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 objectives, 1,000,000 check-ins")
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), help="run only this figure (repeatable)")
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgresql"], help="default: both")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison")
    parser.add_argument("--load-seconds", type=float, default=3.0, help="length of each throughput run")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    args = parser.parse_args(argv)
    keys = [k for k in FIGURES if not args.only or k in args.only]
    started = time.perf_counter()
    results: list[Figure] = []
    for engine, url in _engines(args.engine).items():
        results.extend(_run_engine(engine, url, args, keys))
    elapsed = time.perf_counter() - started
    print("\n" + table(results))
    print(f"\n{sum(f.passed for f in results)} of {len(results)} figures met their target in {elapsed:.0f} s")
    report: dict[str, Any] = {"scale": args.scale, "seconds": round(elapsed, 1), "figures": {}}
    for figure in results:
        report["figures"].setdefault(figure.key, {})[figure.engine] = figure.as_json()
    report["markdown"] = markdown(results)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
