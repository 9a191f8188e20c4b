"""Outgoing webhooks in the API: admins register receivers and read the delivery log."""

from __future__ import annotations

import datetime as dt
import json

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_optional, to_global_id
from schema.pagination import page
from schema.types import Connection
from workflow import models
from workflow.services import webhooks

Ctx = Info[Context, None]


@strawberry.type(name="Webhook", description="A receiver of the organization's events. Its secret is shown once.")
class WebhookType:
    url: str
    active: bool
    created_at: dt.datetime

    @strawberry.field
    def id(self, root: strawberry.Parent[models.Webhook]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Webhook", root.id))

    @strawberry.field(
        description="Event kinds delivered; a prefix like `objective` takes `objective.approve`; empty takes all."
    )
    def event_kinds(self, root: strawberry.Parent[models.Webhook]) -> list[str]:
        return list(root.event_kinds)


@strawberry.type(name="WebhookDelivery", description="One event sent (or being retried) to one webhook.")
class WebhookDeliveryType:
    event_kind: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime

    @strawberry.field
    def id(self, root: strawberry.Parent[models.WebhookDelivery]) -> strawberry.ID:
        return strawberry.ID(to_global_id("WebhookDelivery", root.id))

    @strawberry.field
    def webhook_id(self, root: strawberry.Parent[models.WebhookDelivery]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Webhook", root.webhook_id))

    @strawberry.field(description="The JSON body as stored (row ids, not yet global ids).")
    def payload(self, root: strawberry.Parent[models.WebhookDelivery]) -> str:
        return json.dumps(root.payload, ensure_ascii=False)


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The organization's webhooks (admins only).")
    async def webhooks(self, info: Ctx) -> list[WebhookType]:
        session = await info.context.session()
        rows = await session.execute(webhooks.webhooks_query(info.context.viewer))
        return list(rows.scalars())  # type: ignore[arg-type]

    @strawberry.field(description="The webhook delivery log, newest first (admins only).")
    async def webhook_deliveries(
        self,
        info: Ctx,
        webhook_id: strawberry.ID | None = None,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDeliveryType]:
        window = page(first, after)
        stmt = webhooks.deliveries_query(
            info.context.viewer, decode_optional(webhook_id, "Webhook", "webhookId"), status
        )
        session = await info.context.session()
        total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
        rows = await session.execute(stmt.offset(window.offset).limit(window.limit))
        return Connection.from_slice(list(rows.scalars()), window.offset, total)
