"""The GraphQL endpoint with live updates: graphql-transport-ws on the same /graphql path.

The caller is authenticated when the websocket connects (the auth middleware has resolved the
credential of the handshake; an unauthenticated handshake never reaches here), and the connection
keeps that viewer. Each connection gets a `ConnectionContext`, whose sessions are per event.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from schema.context import Context
from schema.subscriptions import LIVE_SERVICE, ConnectionContext
from server.database import Database
from server.graphql_view import OkrGraphQL
from server.pubsub import LocalBroker
from server.settings import Settings


class LiveGraphQL(OkrGraphQL):
    def __init__(self, schema: Any, database: Database, settings: Settings, broker: LocalBroker) -> None:
        super().__init__(schema, database, settings, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.broker = broker

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if not isinstance(request, WebSocket):
            return await super().get_context(request, response)
        base = await self.build_context(request, response)
        # The viewer is loaded; the session that loaded it must not stay open for the connection's life.
        await base.finish(commit=False)
        return ConnectionContext(
            session_factory=base.session_factory,
            viewer_or_none=base.viewer_or_none,
            settings=base.settings,
            request=request,
            response=response,
            request_id=base.request_id,
            services={LIVE_SERVICE: self.broker},
        )
