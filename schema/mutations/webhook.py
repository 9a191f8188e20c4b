"""Webhook mutations: admins register and remove receivers."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from schema.mutations.runner import run_mutation
from schema.types import UserError
from schema.webhooks import WebhookType
from workflow import models
from workflow.services import webhooks

Ctx = Info[Context, None]


@strawberry.type
class WebhookPayload:
    webhook: WebhookType | None
    secret: str | None = strawberry.field(description="Shown once, at creation: receivers verify signatures with it.")
    user_errors: list[UserError]


@strawberry.type
class DeleteWebhookPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.input
class WebhookInput:
    url: str
    event_kinds: list[str] | None = None


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Registers a webhook (admins); the payload carries its signing secret once.")
    async def create_webhook(self, info: Ctx, input: WebhookInput) -> WebhookPayload:
        async def action(session: Any, viewer: Any) -> models.Webhook:
            return await webhooks.create_webhook(session, viewer, url=input.url, event_kinds=input.event_kinds or [])

        created, errors = await run_mutation(info, action)
        return WebhookPayload(
            webhook=created,  # type: ignore[arg-type]
            secret=created.secret if created else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Removes a webhook and its delivery log (admins).")
    async def delete_webhook(self, info: Ctx, id: strawberry.ID) -> DeleteWebhookPayload:
        async def action(session: Any, viewer: Any) -> strawberry.ID:
            await webhooks.delete_webhook(session, viewer, decode_id(id, "Webhook"))
            return id

        deleted, errors = await run_mutation(info, action)
        return DeleteWebhookPayload(deleted_id=deleted, user_errors=errors)
