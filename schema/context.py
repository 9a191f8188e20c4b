"""What every resolver gets: the viewer, the request's database session and its dataloaders."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from schema.loaders import Loaders
from workflow.errors import DomainError, ErrorCode
from workflow.request_scope import current_request_id
from workflow.viewer import Viewer

if TYPE_CHECKING:
    from collections.abc import Callable


class Unauthenticated(DomainError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.FORBIDDEN, "Sign in to use the API.")


@dataclass
class Context:
    """Per request. The session is opened on first use; the HTTP layer commits or rolls it back."""

    session_factory: Callable[..., AsyncSession]
    viewer_or_none: Viewer | None
    settings: Any = None
    request: Any = None
    response: Any = None
    # The HTTP layer names each request (X-Request-ID); the same id is logged and recorded on events.
    request_id: str = field(default_factory=lambda: current_request_id.get() or uuid.uuid4().hex)
    # Figures are computed against one date per request, so a response is self-consistent.
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    services: dict[str, Any] = field(default_factory=dict)
    # The HTTP view writes a read plan's JSON text into the response as it is (schema.read_plans).
    raw_json: bool = False
    _session: AsyncSession | None = None
    _write: bool = False
    # Mutations of this request whose work is in the transaction (schema/mutations/runner.py).
    mutations_applied: int = 0
    _loaders: Loaders | None = None
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def viewer(self) -> Viewer:
        if self.viewer_or_none is None:
            raise Unauthenticated()
        return self.viewer_or_none

    async def session(self) -> AsyncSession:
        if self._session is None:
            async with self._opening:
                if self._session is None:
                    session = self.session_factory(write=self._write)
                    # Connected here, once: sibling resolvers asking at the same moment would each
                    # try to provision the session's connection, which SQLAlchemy refuses.
                    await session.connection()
                    self._session = session
        return self._session

    def adopt(self, session: AsyncSession, *, write: bool) -> None:
        """Go on in the transaction the request's credential was checked in (see server.auth); a
        mutation's began as a writer, so its work needs no second connection."""
        self._session = session
        self._write = write

    async def write_session(self) -> AsyncSession:
        """Mutations ask for this first, so SQLite begins their transaction IMMEDIATE."""
        if self._session is not None and not self._write and not self._session_has_changes():
            # The request already read (its viewer) in a deferred transaction; upgrading that one to a
            # writer later fails at once with "database is locked" if another writer committed in
            # between. Starting over as a writer queues on the lock instead.
            await self._session.close()
            self._session = None
            self._loaders = None
        if self._session is None:
            self._write = True
        return await self.session()

    def _session_has_changes(self) -> bool:
        session = self._session
        return session is not None and bool(session.new or session.dirty or session.deleted)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.session, self.viewer)
        return self._loaders

    def reset_loaders(self) -> None:
        """After a write, later reads in the same request must see it; at the end of the request,
        the rows go (see Loaders.close)."""
        if self._loaders is not None:
            self._loaders.close()
        self._loaders = None

    async def finish(self, *, commit: bool) -> None:
        self.reset_loaders()
        if self._session is None:
            return
        try:
            if commit:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None
