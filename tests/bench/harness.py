"""The server under test as a production process, and the two load generators that measure it.

The server is uvicorn in a subprocess (OKR_ENV=production, one worker, a free loopback port), so the
benchmark process never shares a CPU slice or an event loop with it. Latency figures come from a
plain httpx client in this process, one request at a time; throughput figures from wrk (Debian's
`wrk`) when it is installed, else from an asyncio httpx client in a second process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class BenchError(RuntimeError):
    """A figure could not be measured (a feature missing, a wrong answer); the message says which."""


def read_proc_status(pid: int, field: str) -> float:
    """VmRSS / VmHWM of a process, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


class ServerProcess:
    """`uvicorn server.app:create_app --factory` with production settings and the bench floors mounted."""

    def __init__(self, database_url: str, env: Mapping[str, str]) -> None:
        self.database_url = database_url
        self.extra_env = dict(env)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="okr-bench-server-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        env = {
            **os.environ,
            "OKR_ENV": "production",
            "OKR_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "OKR_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "DATABASE_URL": self.database_url,
            "OKR_BENCH_ENDPOINTS": "1",
            "OKR_SCHEDULER": "off",
            # The load generators are one client: per-user rate limits would measure the limiter.
            "OKR_RATE_LIMIT_PER_MINUTE": "100000000",
            "OKR_LOG_FORMAT": "text",
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited at start-up; see {self.log.name}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server did not answer /healthz within 60 s; see {self.log.name}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def peak_rss_mb(self) -> float:
        return read_proc_status(self.pid, "VmHWM")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass
class Call:
    """One request the benchmark repeats: where it goes, what it sends, as whom."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    def payload(self) -> bytes:
        return json.dumps(self.body).encode()


class Client:
    """Sequential requests from this process, timed end to end (request sent to body read)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=300)

    def send(self, call: Call) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = self.http.post(
            call.path, content=call.payload(), headers={"content-type": "application/json", **call.headers}
        )
        body = response.content
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise BenchError(f"{call.path} answered {response.status_code}: {body[:300]!r}")
        parsed: dict[str, Any] = json.loads(body)
        if parsed.get("errors"):
            raise BenchError(f"{call.path}: {parsed['errors'][0].get('message', parsed['errors'])}")
        return elapsed, parsed

    def statements(self) -> int:
        count: int = self.http.get("/bench/statements").json()["statements"]
        return count

    def close(self) -> None:
        self.http.close()


def alternate(rounds: int, measure_a: Callable[[], float], measure_b: Callable[[], float]) -> tuple[float, float]:
    """Medians of A and B measured side by side, the order flipped every round so drift hits both."""
    a_values: list[float] = []
    b_values: list[float] = []
    for round_index in range(rounds):
        if round_index % 2 == 0:
            a_values.append(measure_a())
            b_values.append(measure_b())
        else:
            b_values.append(measure_b())
            a_values.append(measure_a())
    return statistics.median(a_values), statistics.median(b_values)


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{headers}
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def throughput(base_url: str, call: Call, seconds: float, connections: int) -> float:
    """Requests per second that answered 200 during `seconds` of load on `connections` connections."""
    if shutil.which("wrk"):
        return _wrk(base_url, call, seconds, connections)
    return _python_load(base_url, call, seconds, connections)


def _wrk(base_url: str, call: Call, seconds: float, connections: int) -> float:
    headers = "\n".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in call.headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT.format(body=_lua_string(json.dumps(call.body)), headers=headers))
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                base_url + call.path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = result.stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed and int(failed.group(1)) > 0:
        raise BenchError(f"{call.path}: {failed.group(1)} non-2xx responses under load")
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if total is None:
        raise BenchError(f"cannot read wrk's output:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _python_load(base_url: str, call: Call, seconds: float, connections: int) -> float:
    """The fallback load generator: asyncio + httpx in its own process (tests/bench/loadgen.py)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.loadgen",
            base_url + call.path,
            json.dumps(call.body),
            json.dumps(call.headers),
            str(seconds),
            str(connections),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    if report["failed"]:
        raise BenchError(f"{call.path}: {report['failed']} failed responses under load")
    return float(report["rps"])
