"""Error answers of the HTTP layer, shaped like GraphQL errors so clients need one error path."""

from __future__ import annotations

from starlette.responses import JSONResponse

from workflow.request_scope import current_request_id


def error_response(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    extensions = {"code": code}
    request_id = current_request_id.get()
    if request_id:
        extensions["requestId"] = request_id
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, status, headers=headers)
