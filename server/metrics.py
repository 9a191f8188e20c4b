"""Prometheus metrics for operators: `/metrics` in the text exposition format.

Metrics are process-wide (prometheus-client's default registry), as a scraper expects one set per
process. Label values that clients choose (GraphQL operation names) are sanitised and capped, so a
client cannot blow up the number of series.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from server.database import Database

MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[^A-Za-z0-9_]")

GRAPHQL_REQUESTS = Counter(
    "okr_graphql_requests_total", "GraphQL operations by operation name and outcome.", ["operation", "status"]
)
GRAPHQL_LATENCY = Histogram(
    "okr_graphql_request_duration_seconds",
    "Time to execute a GraphQL operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_REQUESTS = Counter("okr_http_requests_total", "HTTP requests by route and status code.", ["route", "status"])
SCHEDULER_LAG = Gauge("okr_scheduler_lag_seconds", "How late the oldest job claimed by the last tick started.")
SCHEDULER_JOBS = Counter("okr_scheduler_jobs_total", "Jobs run by the scheduler.", ["kind", "outcome"])
WEBHOOK_ATTEMPTS = Counter("okr_webhook_attempts_total", "Webhook delivery attempts.")
WEBHOOK_FAILURES = Counter("okr_webhook_failures_total", "Webhook delivery attempts that did not succeed.")

_known_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    label = _OPERATION_NAME.sub("_", name)[:64]
    if label not in _known_operations:
        if len(_known_operations) >= MAX_OPERATION_NAMES:
            return "other"
        _known_operations.add(label)
    return label


class GraphQLMetrics(SchemaExtension):
    """Counts and times every operation, labelled by its name and whether it had errors."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        operation = operation_label(context.operation_name)
        result = context.result
        failed = result is None or bool(getattr(result, "errors", None)) or bool(context.pre_execution_errors)
        GRAPHQL_LATENCY.labels(operation).observe(time.perf_counter() - started)
        GRAPHQL_REQUESTS.labels(operation, "error" if failed else "ok").inc()


class _PoolCollector(Collector):
    """Database pool figures read at scrape time from every live engine of the process."""

    def __init__(self) -> None:
        self.databases: weakref.WeakSet[Database] = weakref.WeakSet()

    def collect(self) -> Iterable[GaugeMetricFamily]:
        size = GaugeMetricFamily("okr_db_pool_size", "Connections the pool keeps.")
        checked_out = GaugeMetricFamily("okr_db_pool_checked_out", "Connections in use.")
        overflow = GaugeMetricFamily("okr_db_pool_overflow", "Connections opened beyond the pool size.")
        pool_size = used = over = 0
        for database in list(self.databases):
            pool: Any = database.engine.pool
            pool_size += int(pool.size()) if hasattr(pool, "size") else 0
            used += int(pool.checkedout()) if hasattr(pool, "checkedout") else 0
            over += max(int(pool.overflow()), 0) if hasattr(pool, "overflow") else 0
        size.add_metric([], pool_size)
        checked_out.add_metric([], used)
        overflow.add_metric([], over)
        return [size, checked_out, overflow]


POOL = _PoolCollector()
REGISTRY.register(POOL)


def watch_database(database: Database) -> None:
    POOL.databases.add(database)


def _route(path: str) -> str:
    for prefix in ("/graphql", "/metrics", "/healthz", "/auth"):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return "static"


class HTTPMetricsMiddleware:
    """Counts HTTP responses by route and status; routes are a fixed set, never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_count(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            HTTP_REQUESTS.labels(_route(scope["path"]), str(status)).inc()


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
