"""Rate limits per user and per address on the API and on sign-in, answered with 429 + Retry-After.

Counters live in process memory (the `limits` library's moving window): each server process
enforces its own share, which is what a single machine needs; several processes behind a load
balancer would point `limits` at a shared storage instead.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.principal import PRINCIPAL_STATE_KEY
from server.middleware.responses import error_response
from server.settings import Settings

# Many people of one company may share an address (an office NAT), so one address gets the budget
# of this many callers; a signed-in caller gets one, counted after sign-in by `CallerRateLimit`.
CALLERS_PER_ADDRESS = 10


def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str) -> int:
    reset = limiter.get_window_stats(item, key).reset_time
    return max(1, math.ceil(reset - time.time()))


def _too_many(item: RateLimitItem, retry_after: int) -> JSONResponse:
    return error_response(
        429,
        f"Too many requests: at most {item.amount} a minute. Try again in {retry_after} s.",
        "RATE_LIMITED",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimit:
    """Per address, before anything else runs: the API (a shared budget) and sign-in (a small one)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_address = RateLimitItemPerMinute(settings.rate_limit_per_minute * CALLERS_PER_ADDRESS)
        self.signin = RateLimitItemPerMinute(settings.signin_rate_limit_per_minute)

    def _limit(self, scope: Scope) -> tuple[RateLimitItem, str] | None:
        path: str = scope["path"]
        address = (scope.get("client") or ("unknown", 0))[0]
        if path.startswith("/auth/"):
            return self.signin, f"signin:{address}"
        if path == "/graphql" and scope["method"] != "OPTIONS":
            return self.per_address, f"api:{address}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope) if scope["type"] == "http" else None
        if limit is not None and not self.limiter.hit(*limit):
            await _too_many(limit[0], _retry_after(self.limiter, *limit))(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CallerRateLimit:
    """Per signed-in user on the API. Sits inside the auth middleware, which names the caller."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_caller = RateLimitItemPerMinute(settings.rate_limit_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get(PRINCIPAL_STATE_KEY) if scope["type"] == "http" else None
        if principal is not None and scope["path"] == "/graphql":
            key = f"user:{principal.user_id}"
            if not self.limiter.hit(self.per_caller, key):
                retry_after = _retry_after(self.limiter, self.per_caller, key)
                await _too_many(self.per_caller, retry_after)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def caller_rate_limit(settings: Settings) -> Middleware:
    """For the app's inner middleware list, right after the auth middleware."""
    return Middleware(CallerRateLimit, settings=settings)
