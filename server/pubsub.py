"""Live-update fan-out: what changed is published after commit, subscribers filter by visibility.

Publishing hooks into every ORM session (`install`): objectives, key results, check-ins and
notifications touched in a transaction are announced when it commits, and never when it rolls
back, so the workflow services need not know anyone listens. A message carries ids only; each
subscriber reads the row back through its own viewer's visibility predicate, so a message can
never leak what its receiver may not see.

On SQLite (one process) a broker fans messages out in process. On PostgreSQL messages go through
`NOTIFY` and every process `LISTEN`s, so a check-in served by one process reaches subscribers
connected to any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from workflow import models

log = logging.getLogger("okr.pubsub")

OBJECTIVES = "objective"
NOTIFICATIONS = "notification"
PG_CHANNEL = "okr_live"
QUEUE_SIZE = 256

_PENDING = "okr_live_messages"
Message = dict[str, Any]


class LocalBroker:
    """In-process fan-out: each subscriber has a bounded queue; a slow one loses its oldest messages."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def fan_out_key(self) -> str:
        """Brokers with the same key receive each other's messages; one of them publishes for all."""
        return f"local:{id(self)}"

    def subscriber_count(self, channel: str) -> int:
        return len(self._queues[channel])

    def deliver(self, channel: str, message: Message) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def publish(self, channel: str, message: Message) -> None:
        self.deliver(channel, message)

    def publish_soon(self, channel: str, message: Message) -> None:
        """From synchronous code running on the event loop (the session's after-commit hook)."""
        task = asyncio.get_running_loop().create_task(self.publish(channel, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def ready(self) -> None:
        """Wait until messages published from now on will be received."""

    async def subscribe(self, channel: str) -> AsyncIterator[Message]:
        await self.ready()
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[channel].discard(queue)

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task


class PostgresBroker(LocalBroker):
    """Fan-out across processes: publish is `NOTIFY`, and one `LISTEN` connection per process delivers."""

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._publisher: psycopg.AsyncConnection[Any] | None = None
        self._publish_lock = asyncio.Lock()

    @property
    def fan_out_key(self) -> str:
        return f"postgresql:{self.conninfo}"

    async def ready(self) -> None:
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.create_task(self._listen(), name="okr-live-listen")
        await self._listening.wait()

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {PG_CHANNEL}")
                    self._listening.set()
                    async for note in conn.notifies():
                        envelope = json.loads(note.payload)
                        self.deliver(envelope["channel"], envelope["message"])
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: reconnect; subscribers just see a gap
                log.exception("live-update listener lost its connection")
                await asyncio.sleep(1.0)

    async def publish(self, channel: str, message: Message) -> None:
        payload = json.dumps({"channel": channel, "message": message}, separators=(",", ":"))
        async with self._publish_lock:
            try:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                await self._publisher.execute("SELECT pg_notify(%s, %s)", (PG_CHANNEL, payload))
            except psycopg.Error:
                log.exception("could not publish a live update")
                self._publisher = None

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None


def broker_for(database_url: str) -> LocalBroker:
    if database_url.startswith("postgresql"):
        return PostgresBroker(database_url.replace("postgresql+psycopg://", "postgresql://", 1))
    return LocalBroker()


_brokers: weakref.WeakSet[LocalBroker] = weakref.WeakSet()


def _collect(session: Session, flush_context: Any) -> None:
    pending: dict[tuple[str, int], Message] = session.info.setdefault(_PENDING, {})
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, models.Objective):
            message = {"org": obj.organization_id, "objective": obj.id, "cycle": obj.cycle_id}
            pending[(OBJECTIVES, obj.id)] = message
        elif isinstance(obj, models.KeyResult):
            pending.setdefault(
                (OBJECTIVES, obj.objective_id), {"org": obj.organization_id, "objective": obj.objective_id}
            )
        elif isinstance(obj, models.CheckIn):
            # The key result is in the session already (the check-in updated its figures): no query needed.
            kr = session.identity_map.get(inspect(models.KeyResult).identity_key_from_primary_key((obj.key_result_id,)))
            if isinstance(kr, models.KeyResult):
                pending.setdefault(
                    (OBJECTIVES, kr.objective_id), {"org": kr.organization_id, "objective": kr.objective_id}
                )
        elif isinstance(obj, models.Notification) and obj in session.new:
            pending[(NOTIFICATIONS, obj.id)] = {"org": obj.organization_id, "user": obj.user_id, "id": obj.id}


def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: nothing is visible to others until the transaction commits
    pending: dict[tuple[str, int], Message] = session.info.pop(_PENDING, {})
    if not pending or not _brokers:
        return
    # Brokers on one PostgreSQL share the NOTIFY: publishing through each would deliver copies.
    publishers = {broker.fan_out_key: broker for broker in list(_brokers)}
    for (channel, _), message in pending.items():
        for broker in publishers.values():
            broker.publish_soon(channel, message)


def _forget(session: Session, transaction: Any) -> None:
    # Only when the whole transaction is over: a rolled-back savepoint leaves the rest to commit.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def install(broker: LocalBroker) -> None:
    """Publish every session's committed changes to `broker` (and to any other installed one)."""
    _brokers.add(broker)
    for name, fn in (("after_flush", _collect), ("after_commit", _publish), ("after_transaction_end", _forget)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
