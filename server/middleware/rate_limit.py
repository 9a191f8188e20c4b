"""Rate limits per caller and per address on the API and on sign-in, answered with 429 + Retry-After.

Counters live in process memory (the `limits` library's moving window): each server process
enforces its own share, which is what a single machine needs; several processes behind a load
balancer would point `limits` at a shared storage instead.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from server.middleware.responses import error_response
from server.settings import Settings

# Many people of one company may share an address (an office NAT), so one address gets the budget
# of this many callers; a single credential gets one.
CALLERS_PER_ADDRESS = 10
CREDENTIAL_HEADERS = (b"authorization", b"x-okr-dev-user")
SESSION_COOKIE_PREFIX = "okr_session="


def _credential(scope: Scope) -> str | None:
    """A stable, non-reversible key for whoever the request claims to be (token, session or dev user)."""
    headers = dict(scope.get("headers", ()))
    raw: bytes | None = next((headers[h] for h in CREDENTIAL_HEADERS if h in headers), None)
    if raw is None:
        cookies = headers.get(b"cookie", b"").decode("latin-1")
        session = next((c.strip() for c in cookies.split(";") if c.strip().startswith(SESSION_COOKIE_PREFIX)), None)
        raw = session.encode() if session else None
    return hashlib.sha256(raw).hexdigest()[:32] if raw else None


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_caller = RateLimitItemPerMinute(settings.rate_limit_per_minute)
        self.per_address = RateLimitItemPerMinute(settings.rate_limit_per_minute * CALLERS_PER_ADDRESS)
        self.anonymous = RateLimitItemPerMinute(settings.rate_limit_per_minute)
        self.signin = RateLimitItemPerMinute(settings.signin_rate_limit_per_minute)

    def _limits(self, scope: Scope) -> list[tuple[RateLimitItem, str]]:
        path: str = scope["path"]
        address = (scope.get("client") or ("unknown", 0))[0]
        if path.startswith("/auth/"):
            return [(self.signin, f"signin:{address}")]
        if path != "/graphql" or scope["method"] == "OPTIONS":
            return []
        credential = _credential(scope)
        if credential is None:
            return [(self.anonymous, f"anon:{address}")]
        return [(self.per_address, f"addr:{address}"), (self.per_caller, f"caller:{credential}")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for item, key in self._limits(scope):
            if not self.limiter.hit(item, key):
                reset = self.limiter.get_window_stats(item, key).reset_time
                retry_after = max(1, math.ceil(reset - time.time()))
                response = error_response(
                    429,
                    f"Too many requests: at most {item.amount} a minute. Try again in {retry_after} s.",
                    "RATE_LIMITED",
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
