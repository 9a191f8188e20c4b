"""Facts about the current request that the domain records but does not decide (request id)."""

from __future__ import annotations

from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("okr_request_id", default=None)
