"""The Starlette application factory."""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from schema.app_schema import build_schema
from schema.limits import limit_extensions
from server.auth import CredentialGuard, build_auth
from server.database import Database
from server.live import LiveGraphQL
from server.metrics import GraphQLMetrics, HTTPMetricsMiddleware, metrics_endpoint, watch_database
from server.middleware import caller_rate_limit, install_middleware
from server.middleware.logs import configure_logging
from server.pubsub import broker_for
from server.pubsub import install as publish_changes
from server.scheduler import Scheduler
from server.settings import Settings
from workflow.services import webhooks as webhook_events

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend_static"


GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Fewer, cheaper cycle collections while serving.

    A whole-company tree allocates hundreds of thousands of short-lived objects (rows, dicts,
    response nodes); at CPython's default (a young collection every 700 allocations) the collector
    ran thousands of times per tree, and each full collection walked everything the process had
    imported. Objects alive at start-up are frozen out of the collector's walks, and the young
    generation is collected every 50,000 allocations: a request's rows are freed by reference
    counting when it ends (`Loaders.close`), so there is little for the collector to find
    (README, Performance, has the figures).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, database: Database | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    # A database handed in (tests, embedding) belongs to the caller, who disposes of it.
    owns_database = database is None
    database = database or Database(settings.database_url)
    configure_logging(settings.log_json)
    extensions = [*limit_extensions(settings), CredentialGuard, GraphQLMetrics]
    # Committed changes are announced to live subscribers (fan-out across processes on PostgreSQL).
    broker = broker_for(settings.database_url)
    publish_changes(broker)
    graphql = LiveGraphQL(build_schema(extensions), database, settings, broker)
    auth = build_auth(settings, database)
    # Logged events become webhook deliveries in the transaction that logs them.
    webhook_events.install()
    watch_database(database)

    async def healthz(request: Request) -> Response:
        try:
            async with database.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # the probe reports any database failure as unhealthy
            return JSONResponse({"status": "unavailable", "database": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = Scheduler(database, interval=settings.scheduler_interval) if settings.scheduler_enabled else None
        if scheduler is not None:
            scheduler.start()
        app.state.scheduler = scheduler
        tune_garbage_collector()
        yield
        if scheduler is not None:
            # After uvicorn has drained in-flight requests: finish the job in hand, release the rest.
            await scheduler.stop()
        await broker.close()
        if owns_database:
            await database.dispose()

    routes = [
        *auth.routes,
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Mount("/", app=StaticFiles(directory=FRONTEND_DIR, html=True, check_dir=False), name="frontend"),
    ]
    if os.environ.get("OKR_BENCH_ENDPOINTS") == "1":
        # `make bench` compares GraphQL with plain endpoints in this same process; never set in production.
        bench = importlib.import_module("tests.bench.raw_endpoints")
        routes[:0] = bench.routes(database, settings)
    # Innermost: sessions and credentials are resolved after the rate limits and origin checks.
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[*auth.middleware, caller_rate_limit(settings)])
    app.state.settings = settings
    app.state.database = database
    app.state.live_broker = broker
    app.state.idp_verifier = auth.verifier
    install_middleware(app, settings)
    app.add_middleware(HTTPMetricsMiddleware)
    return app
