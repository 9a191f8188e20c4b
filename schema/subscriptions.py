"""Live updates: `objectiveUpdated(cycleId)` and `notificationAdded` over graphql-transport-ws.

The viewer is authenticated when the websocket connects. A change announces ids only; every event
is read back with the viewer's visibility predicate inside the SQL, so a subscriber receives exactly
what a query would show it, and an invisible change is indistinguishable from none.

One websocket carries several operations that share one context, while each event must be resolved
with a fresh database session and fresh dataloaders (data changed since the last one). The context
of a connection therefore keeps a per-event scope in a context variable: an operation's events are
resolved in its own task, so each operation sees its own scope and two never share a session.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from graphql import GraphQLError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from schema.loaders import Loaders
from schema.types import NotificationType, ObjectiveType
from workflow import models
from workflow.policies import objective_visible, visible_objective_ids

OBJECTIVES = "objective"
NOTIFICATIONS = "notification"
LIVE_SERVICE = "live"
OPEN_SUBSCRIPTIONS = "open_subscriptions"


class LiveFeed(Protocol):
    """What the transport provides (server/pubsub.py): the messages published on a channel."""

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...


@dataclass
class _EventScope:
    session: AsyncSession | None = None
    loaders: Loaders | None = None


_event_scope: ContextVar[_EventScope | None] = ContextVar("okr_live_event_scope", default=None)


@dataclass
class ConnectionContext(Context):
    """The context of one websocket: the viewer is fixed at connect time, sessions are per event."""

    connection_params: dict[str, Any] = field(default_factory=dict)

    async def session(self) -> AsyncSession:
        scope = _event_scope.get()
        if scope is None:
            return await super().session()
        if scope.session is None:
            scope.session = self.session_factory()
        return scope.session

    @property
    def loaders(self) -> Loaders:
        scope = _event_scope.get()
        if scope is None:
            return super().loaders
        if scope.loaders is None:
            scope.loaders = Loaders(self.session, self.viewer)
        return scope.loaders


def _feed(info: Info[Context, None]) -> LiveFeed:
    feed = info.context.services.get(LIVE_SERVICE)
    if feed is None:
        raise GraphQLError("Live updates are not available on this transport.")
    return feed  # type: ignore[no-any-return]


@asynccontextmanager
async def _slot(info: Info[Context, None]) -> AsyncIterator[None]:
    """At most `max_subscriptions_per_connection` live operations on one connection."""
    services = info.context.services
    limit = getattr(info.context.settings, "max_subscriptions_per_connection", 10)
    if services.get(OPEN_SUBSCRIPTIONS, 0) >= limit:
        raise GraphQLError(f"At most {limit} subscriptions may be open on one connection.")
    services[OPEN_SUBSCRIPTIONS] = services.get(OPEN_SUBSCRIPTIONS, 0) + 1
    try:
        yield
    finally:
        services[OPEN_SUBSCRIPTIONS] -= 1


@asynccontextmanager
async def _event(info: Info[Context, None]) -> AsyncIterator[AsyncSession]:
    """A fresh session and dataloaders for one event; closed when the next event is awaited."""
    scope = _EventScope()
    token = _event_scope.set(scope)
    try:
        yield await info.context.session()
    finally:
        # A client that stops listening closes the generator from another task: resetting fails there.
        with suppress(ValueError):
            _event_scope.reset(token)
        if scope.session is not None:
            await scope.session.close()


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Objectives of the cycle that changed (fields, status, figures).")
    async def objective_updated(
        self, info: Info[Context, None], cycle_id: strawberry.ID
    ) -> AsyncGenerator[ObjectiveType, None]:
        viewer = info.context.viewer
        cycle = decode_id(cycle_id, "Cycle", "cycleId")
        feed = _feed(info)
        async with _slot(info):
            async for message in feed.subscribe(OBJECTIVES):
                if message.get("org") != viewer.organization_id or message.get("cycle", cycle) != cycle:
                    continue
                async with _event(info) as session:
                    found = (
                        await session.execute(
                            select(models.Objective).where(
                                models.Objective.id == message["objective"],
                                models.Objective.cycle_id == cycle,
                                objective_visible(viewer),
                            )
                        )
                    ).scalar_one_or_none()
                    if found is not None:
                        info.context.loaders.prime_objectives([found])
                        yield found  # type: ignore[misc]

    @strawberry.subscription(description="Notifications for the viewer, as they are created.")
    async def notification_added(self, info: Info[Context, None]) -> AsyncGenerator[NotificationType, None]:
        viewer = info.context.viewer
        feed = _feed(info)
        async with _slot(info):
            async for message in feed.subscribe(NOTIFICATIONS):
                if message.get("org") != viewer.organization_id or message.get("user") != viewer.user_id:
                    continue
                async with _event(info) as session:
                    found = (
                        await session.execute(
                            select(models.Notification).where(
                                models.Notification.id == message["id"],
                                models.Notification.user_id == viewer.user_id,
                                models.Notification.organization_id == viewer.organization_id,
                                or_(
                                    models.Notification.objective_id.is_(None),
                                    models.Notification.objective_id.in_(visible_objective_ids(viewer)),
                                ),
                            )
                        )
                    ).scalar_one_or_none()
                    if found is not None:
                        yield found  # type: ignore[misc]
