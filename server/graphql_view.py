"""Strawberry's ASGI view, with one database session per request: commit on success, else roll back."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from schema.context import Context
from schema.read_plans import RawJson
from server.auth import authenticate
from server.auth.principal import request_session
from server.database import Database
from server.settings import Settings


class OkrGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, database: Database, settings: Settings, **kwargs: Any) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.development else None, **kwargs)
        self.database = database
        self.settings = settings

    async def build_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        context = Context(
            session_factory=self.database.session,
            viewer_or_none=None,
            settings=self.settings,
            request=request,
            response=response,
            raw_json=isinstance(request, Request),
        )
        adopted = request_session(request)
        if adopted is not None:
            context.adopt(adopted.session, write=adopted.write)
        principal = await authenticate(request, self.settings, self.database.session)
        # The auth middleware read the viewer with the credential (None: no longer a member).
        context.viewer_or_none = principal.viewer if principal is not None else None
        return context

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return await self.build_context(request, response)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context=context, root_value=root_value)
        if request.method == "GET" and "query" not in request.query_params:
            # The GraphiQL page needs no database session.
            return await super().run(request, context=context, root_value=root_value)
        ctx = await self.build_context(request)
        request.state.okr_context = ctx
        committed = False
        try:
            response: Response = await super().run(request, context=ctx, root_value=root_value)
            committed = not getattr(request.state, "okr_failed", False)
            await ctx.finish(commit=committed)
            return response
        finally:
            if not committed:
                await ctx.finish(commit=False)

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict):
            fields = data.get("data")
            if isinstance(fields, dict) and len(fields) == 1:
                ((key, value),) = fields.items()
                if isinstance(value, RawJson):
                    # A read plan's answer: the database's JSON text goes in as it is.
                    if data.keys() == {"data"}:
                        return '{"data":{' + json.dumps(key) + ":" + value + "}}"
                    data = {**data, "data": {key: json.loads(value)}}
        return super().encode_json(data)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            # An unexpected error anywhere leaves no partial write behind.
            request.state.okr_failed = True
        return await super().process_result(request, result)
