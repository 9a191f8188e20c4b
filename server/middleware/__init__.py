"""HTTP hardening as plain ASGI middleware: request ids and logs, origin checks, rate limits, body guards.

`install_middleware` adds them to an app, outermost first as listed there; each is a small class
that can be read and tested on its own.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from server.middleware.guards import GraphQLRequestGuard, RequestTimeout
from server.middleware.headers import SecurityHeaders
from server.middleware.origins import OriginPolicy
from server.middleware.rate_limit import RateLimit, caller_rate_limit
from server.middleware.request_context import RequestContext
from server.settings import Settings

GRAPHQL_PATH = "/graphql"


def install_middleware(app: Starlette, settings: Settings) -> None:
    """Wrap the app. `add_middleware` puts each new layer outside the previous ones, so the list below
    is applied innermost first: the request id and the log line wrap everything else."""
    app.add_middleware(RequestTimeout, settings=settings, path=GRAPHQL_PATH)
    app.add_middleware(GraphQLRequestGuard, settings=settings, path=GRAPHQL_PATH)
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(OriginPolicy, settings=settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["authorization", "content-type", "x-csrf-token", "x-request-id"],
        expose_headers=["x-request-id", "retry-after"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(RequestContext, settings=settings)


__all__ = ["GRAPHQL_PATH", "caller_rate_limit", "install_middleware"]
