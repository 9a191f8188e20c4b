"""Cross-origin requests: allowed from the server's own origin and OKR_CORS_ORIGINS, refused otherwise.

CORS alone only hides answers from foreign pages; a "simple" cross-origin POST (a form, or fetch
with text/plain) would still run. So a request to the API that names a foreign Origin, or that a
browser marks as cross-site, is refused before it runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from server.middleware.responses import error_response
from server.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class OriginPolicy:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed = {_origin_of(settings.public_url), *(o.lower() for o in settings.cors_origins)}

    def _guarded(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == "/graphql":
            return True
        # Sign-in starts and ends with top-level navigations (GET) that an IdP redirect makes cross-site.
        return path.startswith("/auth/") and scope["method"] not in SAFE_METHODS

    def _own_origin(self, scope: Scope, *, websocket: bool = False) -> str | None:
        host = _header(scope, b"host")
        scheme = str(scope.get("scheme", "http"))
        if websocket:  # the page that opens ws://host came from http://host
            scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
        return f"{scheme}://{host}".lower() if host else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http" or not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is not None:
            origin = origin.lower().rstrip("/")
            if origin not in self.allowed and origin != self._own_origin(scope):
                response = error_response(403, f"Requests from {origin} are not allowed.", "ORIGIN_NOT_ALLOWED")
                await response(scope, receive, send)
                return
        elif _header(scope, b"sec-fetch-site") == "cross-site":
            response = error_response(403, "Cross-site requests are not allowed.", "ORIGIN_NOT_ALLOWED")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Browsers send cookies with a cross-site WebSocket handshake and CORS does not apply to it:
        the origin check is the only thing between a foreign page and a signed-in user's live data."""
        origin = _header(scope, b"origin")
        if origin is not None:
            origin = origin.lower().rstrip("/")
            if origin not in self.allowed and origin != self._own_origin(scope, websocket=True):
                await send({"type": "websocket.close", "code": 4403, "reason": "origin not allowed"})
                return
        await self.app(scope, receive, send)
