"""Committed test data for tests that need several connections (schedulers, a live server).

The usual rolled-back transaction per test is invisible to other connections, so these tests write
through real transactions and delete their organization (and its people) afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import delete, select

from server.database import Database
from tests.fixtures.factories import Factory
from workflow import models


@asynccontextmanager
async def committed_factory(database: Database) -> AsyncIterator[Factory]:
    """A factory whose rows are committed when the block ends."""
    async with database.transaction() as session:
        yield Factory(session)


async def drop_organization(database: Database, organization_id: int) -> None:
    async with database.transaction() as session:
        members = select(models.Membership.user_id).where(models.Membership.organization_id == organization_id)
        user_ids = list((await session.execute(members)).scalars())
        await session.execute(delete(models.Job).where(models.Job.organization_id == organization_id))
        await session.execute(delete(models.Organization).where(models.Organization.id == organization_id))
        await session.execute(delete(models.User).where(models.User.id.in_(user_ids)))
