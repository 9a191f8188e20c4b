"""Outgoing webhooks: registration, what is delivered, the signature and the retry schedule.

Deliveries are rows written in the same transaction as what they announce, so an event that is
rolled back is never announced and one that commits is announced even if the process dies right
after. Each delivery gets a job; the scheduler claims it, POSTs it (server/webhooks.py) and records
the attempt here. Failed attempts are retried on a fixed exponential schedule kept in the rows, so a
restart loses nothing.

Events of the log (objective transitions, check-ins, proposals...) are picked up by a session hook
(`install`), so the services that record them need not know webhooks exist. Reminders and alerts,
which are not state changes, call `enqueue` themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from workflow import models
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.services.jobs import PlannedJob, insert_jobs_statement
from workflow.viewer import Viewer

DELIVERY_JOB = "webhook.delivery"
SIGNATURE_HEADER = "X-OKR-Signature"
TIMESTAMP_HEADER = "X-OKR-Timestamp"
# Waits after the 1st, 2nd, ... failed attempt; after the last one the delivery is given up.
RETRY_DELAYS = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"

_NEW_EVENTS = "okr_webhook_events"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`: binding the timestamp lets receivers refuse replays."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def retry_at(attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after `attempts` failed attempts; None once the schedule is used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts - 1]


def matches(event_kinds: Sequence[str], kind: str) -> bool:
    """An empty list takes everything; "objective" takes "objective.approve" and the like."""
    return not event_kinds or any(kind == k or kind.startswith(k.rstrip(".*") + ".") for k in event_kinds)


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("The webhook URL must be an http(s) URL.", "url")
    host = parts.hostname
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_link_local or address.is_multicast or address.is_unspecified):
        # Link-local covers cloud metadata endpoints: never a receiver, always a way to probe the host.
        raise ValidationFailed("The webhook URL must point at a receiver, not a link-local address.", "url")
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if parts.scheme == "http" and not loopback:
        raise ValidationFailed("The webhook URL must use https (plain http only on loopback).", "url")
    return url


def _require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise Forbidden("Only organization admins manage webhooks.")


async def create_webhook(
    session: AsyncSession, viewer: Viewer, *, url: str, event_kinds: Sequence[str] = ()
) -> models.Webhook:
    """Register a receiver. Its secret is generated here and shown to the admin once, in the payload."""
    _require_admin(viewer)
    kinds = sorted({k.strip() for k in event_kinds if k.strip()})
    webhook = models.Webhook(
        organization_id=viewer.organization_id,
        url=_check_url(url),
        secret=secrets.token_urlsafe(32),
        event_kinds=kinds,
        active=True,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, viewer: Viewer, webhook_id: int) -> None:
    _require_admin(viewer)
    webhook = await session.get(models.Webhook, webhook_id)
    if webhook is None or webhook.organization_id != viewer.organization_id:
        raise NotFound("webhook")
    await session.delete(webhook)
    await session.flush()


def deliveries_query(viewer: Viewer, webhook_id: int | None = None, status: str | None = None) -> Select[Any]:
    """The delivery log of the viewer's organization, newest first; admins only."""
    _require_admin(viewer)
    stmt = select(models.WebhookDelivery).where(models.WebhookDelivery.organization_id == viewer.organization_id)
    if webhook_id is not None:
        stmt = stmt.where(models.WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        stmt = stmt.where(models.WebhookDelivery.status == status)
    return stmt.order_by(models.WebhookDelivery.id.desc())


def webhooks_query(viewer: Viewer) -> Select[Any]:
    _require_admin(viewer)
    return (
        select(models.Webhook)
        .where(models.Webhook.organization_id == viewer.organization_id)
        .order_by(models.Webhook.id)
    )


def payload(
    *,
    kind: str,
    occurred_at: dt.datetime,
    text: str,
    subject: tuple[str, int] | None = None,
    objective: tuple[int, str] | None = None,
    actor: Mapping[str, Any] | None = None,
    changes: Iterable[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a receiver gets. Ids are row ids here; the sender turns them into the API's global ids.

    `text` makes a Slack incoming-webhook URL work as a receiver as is.
    """
    return {
        "event": kind,
        "occurredAt": occurred_at.isoformat(),
        "text": text,
        "subject": None if subject is None else {"type": subject[0], "id": subject[1]},
        "objective": None if objective is None else {"id": objective[0], "title": objective[1]},
        "actor": dict(actor) if actor else None,
        "changes": [dict(c) for c in changes],
        "data": dict(extra or {}),
    }


def _add_deliveries(session: Session, organization_id: int, payloads: Sequence[dict[str, Any]]) -> int:
    """Queue each payload for every active webhook of the organization that wants its kind."""
    hooks = list(
        session.execute(
            select(models.Webhook).where(
                models.Webhook.organization_id == organization_id, models.Webhook.active.is_(True)
            )
        ).scalars()
    )
    deliveries = [
        models.WebhookDelivery(
            organization_id=organization_id,
            webhook_id=hook.id,
            event_kind=body["event"],
            payload=body,
            status=PENDING,
            attempts=0,
            next_attempt_at=models.utcnow(),
        )
        for body in payloads
        for hook in hooks
        if matches(hook.event_kinds, body["event"])
    ]
    if not deliveries:
        return 0
    session.add_all(deliveries)
    session.flush()
    jobs = [
        PlannedJob(
            kind=DELIVERY_JOB,
            key=f"webhook-delivery:{d.id}",
            run_at=d.next_attempt_at or models.utcnow(),
            organization_id=organization_id,
            payload={"delivery_id": d.id},
        )
        for d in deliveries
    ]
    bind = session.get_bind()
    session.execute(insert_jobs_statement(bind.dialect.name, jobs))
    return len(deliveries)


async def enqueue(
    session: AsyncSession,
    *,
    organization_id: int,
    kind: str,
    text: str,
    subject: tuple[str, int] | None = None,
    objective: tuple[int, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Queue one event that is not in the event log (reminders, alerts); returns deliveries made."""
    body = payload(kind=kind, occurred_at=models.utcnow(), text=text, subject=subject, objective=objective, extra=extra)
    return await session.run_sync(lambda s: _add_deliveries(s, organization_id, [body]))


def _event_text(event_row: models.Event, title: str | None, actor: str | None) -> str:
    what = event_row.kind.replace("_", " ").replace(".", ": ", 1)
    about = f" “{title}”" if title else ""
    who = f" by {actor}" if actor else ""
    return f"{what}{about}{who}"


def _enqueue_logged_events(session: Session, rows: Sequence[models.Event]) -> None:
    by_org: dict[int, list[models.Event]] = {}
    for row in rows:
        by_org.setdefault(row.organization_id, []).append(row)
    wanted_orgs = set(
        session.execute(
            select(models.Webhook.organization_id)
            .where(models.Webhook.organization_id.in_(by_org), models.Webhook.active.is_(True))
            .distinct()
        ).scalars()
    )
    if not wanted_orgs:
        return
    relevant = [row for org in wanted_orgs for row in by_org[org]]
    objective_ids = {row.objective_id for row in relevant if row.objective_id}
    titles = dict(
        session.execute(
            select(models.Objective.id, models.Objective.title).where(models.Objective.id.in_(objective_ids))
        )
        .tuples()
        .all()
    )
    actor_ids = {row.actor_id for row in relevant if row.actor_id}
    actors = {
        user.id: user for user in session.execute(select(models.User).where(models.User.id.in_(actor_ids))).scalars()
    }
    for org in wanted_orgs:
        bodies = []
        for row in by_org[org]:
            title = titles.get(row.objective_id) if row.objective_id else None
            actor = actors.get(row.actor_id) if row.actor_id else None
            bodies.append(
                payload(
                    kind=row.kind,
                    occurred_at=row.created_at,
                    text=_event_text(row, title, actor.name if actor else None),
                    subject=(row.subject_type, row.subject_id),
                    objective=None if row.objective_id is None else (row.objective_id, title or ""),
                    actor=None if actor is None else {"name": actor.name, "email": actor.email},
                    changes=row.changes,
                    extra={"note": row.note} if row.note else None,
                )
            )
        _add_deliveries(session, org, bodies)


def _collect_events(session: Session, flush_context: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, models.Event)]
    if new:
        session.info.setdefault(_NEW_EVENTS, []).extend(new)


def _enqueue_before_commit(session: Session) -> None:
    collected: list[models.Event] = session.info.pop(_NEW_EVENTS, [])
    # Events flushed inside a savepoint that was rolled back are no longer persistent: skip them.
    alive = [row for row in collected if inspect(row).persistent]
    if alive:
        _enqueue_logged_events(session, alive)


def _forget(session: Session, transaction: Any) -> None:
    # Only when the whole transaction is over: a rolled-back savepoint leaves the rest to commit.
    if transaction.parent is None:
        session.info.pop(_NEW_EVENTS, None)


def install() -> None:
    """Hook every ORM session: logged events become deliveries in the transaction that logs them."""
    hooks = (
        ("after_flush", _collect_events),
        ("before_commit", _enqueue_before_commit),
        ("after_transaction_end", _forget),
    )
    for name, fn in hooks:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def record_attempt(
    delivery: models.WebhookDelivery,
    now: dt.datetime,
    *,
    status_code: int | None,
    error: str | None,
) -> dt.datetime | None:
    """Book one attempt; returns when to retry (None when delivered or given up)."""
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivered = error is None and status_code is not None and 200 <= status_code < 300
    if delivered:
        delivery.status = DELIVERED
        delivery.delivered_at = now
        delivery.last_error = None
        delivery.next_attempt_at = None
        return None
    delivery.last_error = error or f"HTTP {status_code}"
    delivery.next_attempt_at = retry_at(delivery.attempts, now)
    if delivery.next_attempt_at is None:
        delivery.status = FAILED
    return delivery.next_attempt_at
