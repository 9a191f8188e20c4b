"""How every mutation runs: a write session, a savepoint, and domain refusals as user errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from schema.types import UserError
from workflow.errors import DomainError, Forbidden
from workflow.viewer import Viewer

T = TypeVar("T")


def user_error(error: DomainError) -> UserError:
    return UserError(code=error.code, message=error.message, field=error.field)


async def run_mutation(
    info: Any, action: Callable[[AsyncSession, Viewer], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run a workflow service; a refusal rolls back everything it did and becomes a user error.

    The savepoint makes a refused mutation leave nothing behind even when the service had
    already flushed part of its work; the request's own transaction is committed by the HTTP layer.
    """
    context = info.context
    viewer: Viewer = context.viewer
    session = await context.write_session()
    if not viewer.can_write:
        return None, [user_error(Forbidden("This credential may only read."))]
    savepoint = await session.begin_nested()
    try:
        result = await action(session, viewer)
        await session.flush()
    except DomainError as error:
        await savepoint.rollback()
        return None, [user_error(error)]
    await savepoint.commit()
    context.reset_loaders()
    return result, []
