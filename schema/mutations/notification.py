"""Notification mutations."""

from __future__ import annotations

import strawberry
from sqlalchemy import update
from strawberry.types import Info

from schema.context import Context
from schema.ids import from_global_id
from workflow import models


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Marks the given notifications (or all) read; returns how many changed.")
    async def mark_notifications_read(self, info: Info[Context, None], ids: list[strawberry.ID] | None = None) -> int:
        viewer = info.context.viewer
        session = await info.context.write_session()
        stmt = update(models.Notification).where(
            models.Notification.user_id == viewer.user_id,
            models.Notification.organization_id == viewer.organization_id,
            models.Notification.read_at.is_(None),
        )
        if ids is not None:
            pks = [p[1] for p in map(from_global_id, ids) if p is not None and p[0] == "Notification"]
            stmt = stmt.where(models.Notification.id.in_(pks))
        result = await session.execute(stmt.values(read_at=models.utcnow()))
        return int(result.rowcount)  # type: ignore[attr-defined]
