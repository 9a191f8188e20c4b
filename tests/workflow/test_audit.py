"""The event log is append-only at the database level and hash-chained per organization."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import Factory
from workflow import models
from workflow.audit import check_chain, event_hash, verify_chain
from workflow.enums import Role
from workflow.services.events import change, record_event
from workflow.viewer import Viewer


async def _viewer(factory: Factory, org: models.Organization) -> Viewer:
    user = await factory.user(org, Role.ADMIN)
    return Viewer(user_id=user.id, organization_id=org.id, role=Role.ADMIN, issuer=user.issuer, subject=user.subject)


async def _record(session: AsyncSession, org: models.Organization, actor: Viewer | None, n: int) -> models.Event:
    return await record_event(
        session,
        organization_id=org.id,
        actor=actor,
        kind="objective.updated",
        subject_type="Objective",
        subject_id=n,
        version=n,
        changes=[change("title", f"old {n}", f"new {n}")],
    )


async def _events(session: AsyncSession, org: models.Organization) -> list[models.Event]:
    rows = await session.execute(
        select(models.Event).where(models.Event.organization_id == org.id).order_by(models.Event.id)
    )
    return list(rows.scalars())


async def test_each_event_links_to_the_previous_event_of_its_organization(
    session: AsyncSession, factory: Factory
) -> None:
    a, b = await factory.organization(), await factory.organization()
    actor = await _viewer(factory, a)
    for n in range(3):  # interleaved organizations, one flush each
        await _record(session, a, actor, n)
        await _record(session, b, None, n)
    # Several events of one organization in a single flush chain in insertion order too.
    session.add_all(
        models.Event(organization_id=a.id, kind="k", subject_type="Objective", subject_id=n, changes=[])
        for n in range(3)
    )
    await session.flush()

    chain_a = await _events(session, a)
    assert len(chain_a) == 6
    assert chain_a[0].prev_hash is None
    assert [e.prev_hash for e in chain_a[1:]] == [e.hash for e in chain_a[:-1]]
    assert chain_a[1].actor_issuer == actor.issuer
    assert chain_a[1].actor_subject == actor.subject
    chain_b = await _events(session, b)
    assert chain_b[0].prev_hash is None
    assert len(chain_b) == 3
    assert all(r.intact for r in await verify_chain(session, a.id) + await verify_chain(session, b.id))


async def test_a_rolled_back_savepoint_leaves_the_chain_intact(session: AsyncSession, factory: Factory) -> None:
    org = await factory.organization()
    kept = await _record(session, org, None, 1)
    savepoint = await session.begin_nested()
    await _record(session, org, None, 2)
    await savepoint.rollback()
    after = await _record(session, org, None, 3)
    assert after.prev_hash == kept.hash
    [report] = await verify_chain(session, org.id)
    assert report.intact
    assert report.events_checked == 2


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET note = 'rewritten' WHERE id = :id", "DELETE FROM events WHERE id = :id"]
)
async def test_the_database_refuses_to_rewrite_history(session: AsyncSession, factory: Factory, statement: str) -> None:
    org = await factory.organization()
    event = await _record(session, org, None, 1)
    savepoint = await session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        await session.execute(text(statement), {"id": event.id})
    await savepoint.rollback()
    assert (await session.execute(select(models.Event.note).where(models.Event.id == event.id))).scalar_one() == ""


async def _disable_triggers(session: AsyncSession) -> None:
    """What only someone with DDL rights can do; the test's transaction rolls it back."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
    else:
        await session.execute(text("DROP TRIGGER events_no_update"))
        await session.execute(text("DROP TRIGGER events_no_delete"))


async def test_verify_names_the_first_tampered_event(session: AsyncSession, factory: Factory) -> None:
    org = await factory.organization()
    events = [await _record(session, org, None, n) for n in range(5)]
    await _disable_triggers(session)
    await session.execute(text("UPDATE events SET note = 'edited' WHERE id = :id"), {"id": events[2].id})
    [report] = await verify_chain(session, org.id)
    assert report.broken is not None
    assert report.broken.event_id == events[2].id
    assert "changed after it was written" in str(report.broken)
    print(f"\naudit: tampered event {events[2].id} detected: {report.broken}")


async def test_verify_names_a_deleted_link(session: AsyncSession, factory: Factory) -> None:
    org = await factory.organization()
    events = [await _record(session, org, None, n) for n in range(4)]
    await _disable_triggers(session)
    await session.execute(text("DELETE FROM events WHERE id = :id"), {"id": events[1].id})
    [report] = await verify_chain(session, org.id)
    assert report.broken is not None
    assert report.broken.event_id == events[2].id
    assert "does not link" in report.broken.reason


def test_the_hash_covers_every_recorded_field() -> None:
    fields = {
        "organization_id": 1,
        "kind": "k",
        "subject_id": 2,
        "changes": [{"path": "t", "before": "a", "after": "b"}],
    }
    base = event_hash(fields, None)
    assert event_hash(fields, "0" * 64) != base
    for name, value in [("kind", "x"), ("subject_id", 3), ("changes", []), ("request_id", "r")]:
        assert event_hash({**fields, name: value}, None) != base
    assert check_chain(1, []).intact


async def test_erasing_a_whole_organization_takes_its_events_along(session: AsyncSession, factory: Factory) -> None:
    org, other = await factory.organization(), await factory.organization()
    await _record(session, org, None, 1)
    kept = await _record(session, other, None, 1)
    await session.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
    remaining = (
        (await session.execute(select(models.Event.id).where(models.Event.organization_id.in_([org.id, other.id]))))
        .scalars()
        .all()
    )
    assert remaining == [kept.id]
