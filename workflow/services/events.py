"""The event log and notifications: every state or field change is recorded in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.request_scope import current_request_id
from workflow.viewer import Viewer


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def change(path: str, before: Any, after: Any) -> dict[str, str | None]:
    """One field change as reviewers read it: values rendered as text."""
    return {"path": path, "before": _text(before), "after": _text(after)}


def diff(prefix: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str | None]]:
    return [
        change(f"{prefix}{key}", before.get(key), value) for key, value in after.items() if before.get(key) != value
    ]


async def record_event(
    session: AsyncSession,
    *,
    organization_id: int,
    actor: Viewer | None,
    kind: str,
    subject_type: str,
    subject_id: int,
    objective_id: int | None = None,
    cycle_id: int | None = None,
    version: int | None = None,
    changes: Iterable[Mapping[str, Any]] = (),
    note: str = "",
) -> models.Event:
    """Append one event. `actor` None means the system (scheduler, forced activation)."""
    event = models.Event(
        organization_id=organization_id,
        actor_id=actor.user_id if actor else None,
        actor_issuer=actor.issuer if actor else None,
        actor_subject=actor.subject if actor else None,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        objective_id=objective_id,
        cycle_id=cycle_id,
        subject_version=version,
        changes=[dict(c) for c in changes],
        request_id=current_request_id.get(),
        note=note,
    )
    session.add(event)
    await session.flush()
    return event


async def notify(
    session: AsyncSession,
    *,
    organization_id: int,
    user_ids: Iterable[int],
    kind: str,
    message: str,
    subject_type: str | None = None,
    subject_id: int | None = None,
    objective_id: int | None = None,
    skip_user_id: int | None = None,
) -> list[models.Notification]:
    """One notification per person who must act; the actor is never notified of their own act."""
    created = [
        models.Notification(
            organization_id=organization_id,
            user_id=user_id,
            kind=kind,
            message=message,
            subject_type=subject_type,
            subject_id=subject_id,
            objective_id=objective_id,
        )
        for user_id in dict.fromkeys(user_ids)
        if user_id != skip_user_id
    ]
    session.add_all(created)
    if created:
        await session.flush()
    return created
