"""Fallback load generator when wrk is not installed: `python -m tests.bench.loadgen URL BODY HEADERS SECONDS CONNS`.

It runs as its own process so the client's CPU never counts against the server's. Prints
{"rps": ..., "failed": ...} as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def _run(url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> dict[str, float]:
    done = 0
    failed = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    done += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {"rps": done / elapsed, "failed": failed}


def main() -> None:
    url, body, headers, seconds, connections = sys.argv[1:6]
    all_headers = {"content-type": "application/json", **json.loads(headers)}
    report = asyncio.run(_run(url, body.encode(), all_headers, float(seconds), int(connections)))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
