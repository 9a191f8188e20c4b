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

    A refused mutation leaves nothing behind even when the service had already flushed part of its
    work: the first mutation of a request rolls back the request's transaction, which holds nothing
    else; a later one (a document may hold several) rolls back to a savepoint taken before it, so
    the earlier ones stand. The first needs no savepoint, which spares every plain mutation two round
    trips. The request's own transaction is committed by the HTTP layer.
    """
    context = info.context
    viewer: Viewer = context.viewer
    session = await context.write_session()
    if not viewer.can_write:
        return None, [user_error(Forbidden("This credential may only read."))]
    savepoint = await session.begin_nested() if context.mutations_applied else None
    try:
        result = await action(session, viewer)
        await session.flush()
    except DomainError as error:
        await (savepoint.rollback() if savepoint is not None else session.rollback())
        return None, [user_error(error)]
    if savepoint is not None:
        await savepoint.commit()
    context.mutations_applied += 1
    context.reset_loaders()
    return result, []
