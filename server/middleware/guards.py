"""Checks on the GraphQL HTTP request before strawberry sees it.

Strawberry answers a JSON body that is not an object with a 500 and happily runs the first of
several unnamed operations; these guards turn every malformed request into a 4xx with a clear
message, read at most `max_body_bytes` of a body, and stop a request that runs too long.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.middleware.responses import error_response
from server.settings import Settings

# "query", "mutation" or "subscription": the request's database session is opened for it (server.auth).
OPERATION_TYPE_STATE_KEY = "okr_operation_type"

log = logging.getLogger("okr.access")

JSON_TYPES = ("application/json", "application/graphql-response+json")


class RequestRefused(Exception):
    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestRefused(400, "The client went away before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestRefused(413, f"The request body is larger than {limit} bytes.", "PAYLOAD_TOO_LARGE")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


@lru_cache(maxsize=512)
def _operations(query: str, max_tokens: int) -> tuple[OperationDefinitionNode, ...]:
    """The operations of the document. A document that does not parse (or has too many tokens) is
    answered here, so its parse, the costly part of a token flood, runs once and not twice. Clients
    send the same few documents over and over: a good one is parsed once per process (a refusal is
    an exception, never cached)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError as error:
        raise RequestRefused(400, error.message, "GRAPHQL_PARSE_FAILED") from None
    return tuple(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


class GraphQLRequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings, path: str) -> None:
        self.app = app
        self.settings = settings
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "POST":
                body = await self._check_post(scope, receive)
                receive = _replay(body, receive)
            else:
                self._check_get(scope)
        except RequestRefused as refusal:
            response = error_response(refusal.status, refusal.message, refusal.code, refusal.headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check_post(self, scope: Scope, receive: Receive) -> bytes:
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise RequestRefused(
                415, "Send the GraphQL request as JSON (Content-Type: application/json).", "UNSUPPORTED_MEDIA_TYPE"
            )
        limit = self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestRefused(413, f"The request body is larger than {limit} bytes.", "PAYLOAD_TOO_LARGE")
        body = await _read_body(receive, limit)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise RequestRefused(400, "The request body is not valid JSON.") from None
        if isinstance(payload, list):
            raise RequestRefused(400, "Batched requests are not supported: send one operation per request.")
        if not isinstance(payload, dict):
            raise RequestRefused(400, 'The request body must be a JSON object such as {"query": "..."}.')
        self._check_operation(scope, payload.get("query"), payload.get("operationName"), payload.get("variables"))
        return body

    def _check_get(self, scope: Scope) -> None:
        raw = scope.get("query_string", b"")
        if len(raw) > self.settings.max_query_bytes * 3:  # percent-encoding triples a byte at most
            raise RequestRefused(414, "The query string is too long; send large queries with POST.", "URI_TOO_LONG")
        params = parse_qs(raw.decode("latin-1"))
        if "query" not in params:
            return  # the GraphiQL page, or strawberry's own "no query" answer
        variables: Any = params.get("variables", [None])[0]
        if variables is not None:
            try:
                variables = json.loads(variables)
            except ValueError:
                raise RequestRefused(400, "`variables` is not valid JSON.") from None
        operation_name = params.get("operationName", [None])[0]
        operation = self._check_operation(scope, params["query"][0], operation_name, variables)
        if operation is not None and operation.operation != OperationType.QUERY:
            raise RequestRefused(
                405,
                "Only queries may be sent with GET; send mutations with POST.",
                "METHOD_NOT_ALLOWED",
                headers={"Allow": "POST"},
            )

    def _check_operation(
        self, scope: Scope, query: Any, operation_name: Any, variables: Any
    ) -> OperationDefinitionNode | None:
        if not isinstance(query, str) or not query.strip():
            raise RequestRefused(400, "`query` must be a non-empty string holding a GraphQL document.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestRefused(400, "`operationName` must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise RequestRefused(400, "`variables` must be a JSON object.")
        if len(query.encode()) > self.settings.max_query_bytes:
            raise RequestRefused(
                413, f"The query is longer than {self.settings.max_query_bytes} bytes.", "PAYLOAD_TOO_LARGE"
            )
        operations = _operations(query, self.settings.max_tokens)
        if len(operations) > 1 and not operation_name:
            raise RequestRefused(400, "The document has several operations: name the one to run in `operationName`.")
        chosen = next(
            (o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)), None
        )
        if chosen is not None:
            state: dict[str, Any] = scope.setdefault("state", {})
            state["okr_operation"] = chosen.name.value if chosen.name else chosen.operation.value
            state[OPERATION_TYPE_STATE_KEY] = chosen.operation.value
        return chosen


def _replay(body: bytes, downstream: Receive) -> Receive:
    """The body already read, then whatever the server says next (the client leaving)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await downstream()

    return receive


class RequestTimeout:
    """Stops a GraphQL request after `request_timeout` seconds; its transaction is rolled back."""

    def __init__(self, app: ASGIApp, settings: Settings, path: str) -> None:
        self.app = app
        self.timeout = settings.request_timeout
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or self.timeout <= 0:
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, receive, send_tracking)
        except TimeoutError:
            log.warning("request stopped after %ss", self.timeout, extra={"timeout": self.timeout})
            if not started:
                response = error_response(
                    503,
                    f"The request took longer than {self.timeout:g} s and was stopped.",
                    "TIMEOUT",
                    headers={"Retry-After": "1"},
                )
                await response(scope, receive, send)
