"""A request id for every request, one access log line per request, and a JSON 500 as the last resort."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.middleware.responses import error_response
from server.settings import Settings
from workflow.request_scope import current_request_id

access_log = logging.getLogger("okr.access")
error_log = logging.getLogger("okr.errors")

# A caller may pass its own id (a proxy's trace id); anything else is replaced, so ids are safe to log.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "x-request-id"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _CLIENT_REQUEST_ID.match(candidate) else None
    return None


def _user_id(state: dict[str, Any]) -> int | None:
    context = state.get("okr_context")
    viewer = getattr(context, "viewer_or_none", None)
    return getattr(viewer, "user_id", None)


class RequestContext:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = current_request_id.set(request_id)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            error_log.exception("unhandled error: %s", error, extra={"request_id": request_id})
            if status == 0:
                status = 500
                response = error_response(500, "Unexpected error.", "INTERNAL")
                await response(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _user_id(state),
                    "operation": state.get("okr_operation"),
                },
            )
            current_request_id.reset(token)
