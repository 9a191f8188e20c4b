"""Sending one webhook delivery over HTTP, outside any database transaction.

The attempt is read in one short transaction, POSTed with no transaction open (a slow receiver
must not hold a database lock, least of all SQLite's single writer), and booked in a second one
that only counts if this scheduler still holds the job's claim.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from sqlalchemy import select, update

from schema.ids import to_global_id
from server.database import Database
from server.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_FAILURES
from workflow import models
from workflow.services import webhooks

USER_AGENT = "okr-server-webhooks/1"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def render(payload: dict[str, Any]) -> bytes:
    """The body as receivers see it: row ids become the API's opaque global ids."""
    body = dict(payload)
    subject = body.get("subject")
    if subject:
        body["subject"] = {"type": subject["type"], "id": to_global_id(subject["type"], int(subject["id"]))}
    objective = body.get("objective")
    if objective:
        body["objective"] = {**objective, "id": to_global_id("Objective", int(objective["id"]))}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, body: bytes, now: dt.datetime, delivery_id: int) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        webhooks.TIMESTAMP_HEADER: timestamp,
        webhooks.SIGNATURE_HEADER: webhooks.sign(secret, timestamp, body),
        "X-OKR-Delivery": str(delivery_id),
    }


async def deliver(
    database: Database, job: models.Job, worker: str, now: dt.datetime, client: httpx.AsyncClient
) -> bool:
    """Make one attempt of the delivery a claimed job names; True when it was delivered."""
    delivery_id = int(job.payload["delivery_id"])
    async with database.transaction(write=False) as session:
        row = (
            await session.execute(
                select(models.WebhookDelivery, models.Webhook)
                .join(models.Webhook, models.Webhook.id == models.WebhookDelivery.webhook_id)
                .where(models.WebhookDelivery.id == delivery_id)
            )
        ).first()
    status_code: int | None = None
    error: str | None = None
    sendable = row is not None and row[0].status == webhooks.PENDING and row[1].active
    if row is not None and sendable:
        delivery, hook = row
        body = render(delivery.payload)
        try:
            response = await client.post(
                hook.url, content=body, headers=signed_headers(hook.secret, body, now, delivery.id), timeout=TIMEOUT
            )
            status_code = response.status_code
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        WEBHOOK_ATTEMPTS.inc()

    async with database.transaction() as session:
        delivery_now = await session.get(models.WebhookDelivery, delivery_id)
        retry: dt.datetime | None = None
        if sendable and delivery_now is not None and delivery_now.status == webhooks.PENDING:
            retry = webhooks.record_attempt(delivery_now, now, status_code=status_code, error=error)
        elif delivery_now is not None and delivery_now.status == webhooks.PENDING:
            # The webhook was switched off meanwhile: nothing to send, nothing to retry.
            delivery_now.status = webhooks.FAILED
            delivery_now.last_error = "the webhook is not active"
            delivery_now.next_attempt_at = None
        job_update = update(models.Job).where(
            models.Job.id == job.id, models.Job.claimed_by == worker, models.Job.done_at.is_(None)
        )
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "attempts": models.Job.attempts + 1}
        if retry is None:
            values["done_at"] = now
        else:
            values.update(run_at=retry, last_error=delivery_now.last_error if delivery_now else None)
        booked = await session.execute(job_update.values(**values))
        if int(booked.rowcount) != 1:  # type: ignore[attr-defined]
            # Our lease ran out and another scheduler took the job: its booking is the one that counts.
            await session.rollback()
            return False
    delivered = delivery_now is not None and delivery_now.status == webhooks.DELIVERED
    if sendable and not delivered:
        WEBHOOK_FAILURES.inc()
    return delivered
