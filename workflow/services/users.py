"""Organization roles: set by admins (or by the IdP's groups at sign-in, see identity)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import Role
from workflow.errors import ValidationFailed
from workflow.services.events import record_event
from workflow.services.teams import organization_member, require_admin
from workflow.viewer import Viewer


async def set_user_role(session: AsyncSession, viewer: Viewer, *, user_id: int, role: Role) -> models.User:
    require_admin(viewer)
    membership = await organization_member(session, viewer, user_id, "userId")
    before = Role(membership.role)
    if before == Role.ADMIN and role != Role.ADMIN:
        admins = (
            await session.execute(
                select(func.count()).where(
                    models.Membership.organization_id == viewer.organization_id, models.Membership.role == Role.ADMIN
                )
            )
        ).scalar_one()
        # An organization nobody can administer could never be repaired from inside the product.
        if admins <= 1:
            raise ValidationFailed("This is the organization's last admin; make someone else admin first.", "role")
    if before != role:
        membership.role = role
        await session.flush()
        await record_event(
            session,
            organization_id=viewer.organization_id,
            actor=viewer,
            kind="user.role_changed",
            subject_type="User",
            subject_id=user_id,
            changes=[{"path": "role", "before": str(before), "after": str(role)}],
        )
    user = await session.get(models.User, user_id)
    assert user is not None
    return user
