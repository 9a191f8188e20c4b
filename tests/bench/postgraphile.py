"""PostGraphile 4, the peer for dashboard_vs_postgraphile: installed from npm into a scratch folder once,
run as its own process against the same PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.bench.harness import BenchError, free_port

SCRATCH = Path(tempfile.gettempdir()) / "okr-bench-postgraphile"


def install() -> Path:
    binary = SCRATCH / "node_modules" / ".bin" / "postgraphile"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        raise BenchError("npm is not installed (apt-get install npm) so PostGraphile cannot be run")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "postgraphile@4"],
        cwd=SCRATCH,
        check=True,
        capture_output=True,
    )
    return binary


class PostGraphile:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self.connection = url.render_as_string(hide_password=False)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> PostGraphile:
        binary = install()
        self.process = subprocess.Popen(
            [
                str(binary),
                "--connection",
                self.connection,
                "--schema",
                "public",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--disable-query-log",
                "--no-setof-functions-contain-nulls",
            ],
            cwd=SCRATCH,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise BenchError(f"PostGraphile exited at start-up: {stderr[-500:]}")
            try:
                probe = httpx.post(f"{self.base_url}/graphql", json={"query": "{__typename}"}, timeout=2)
                if probe.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise BenchError("PostGraphile did not answer within 60 s")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
