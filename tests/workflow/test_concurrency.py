"""Races between real transactions on separate connections (SQLite and PostgreSQL).

These tests commit their own data through the shared engine (the rolled-back `api` fixture would
put both sides in one transaction) and delete it afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schema.ids import to_global_id
from server.app import create_app
from server.database import Database
from server.settings import Settings
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import RECORD_CHECK_IN, REVIEW_PROPOSAL
from workflow import models
from workflow.enums import CyclePhase, ObjectiveStatus, ProposalStatus, ReviewDecision, Role, TeamRole
from workflow.errors import DomainError
from workflow.services.check_ins import CheckInDraft, record_check_in
from workflow.services.proposals import KeyResultChangeDraft, ProposalDraft, create_proposal, review_proposal
from workflow.viewer import Viewer, load_viewer

T = TypeVar("T")


@dataclass
class World:
    org_id: int
    user_ids: list[int]
    exec_: models.User
    member: models.User
    objective_id: int
    kr_id: int
    proposal_id: int


async def _viewer(session: AsyncSession, world: World, user: models.User) -> Viewer:
    viewer = await load_viewer(session, user.id, world.org_id)
    assert viewer is not None
    return viewer


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    """An ACTIVE objective with an OPEN proposal to raise its key result's target, all committed."""
    async with database.transaction() as session:
        factory = Factory(session)
        org = await factory.organization()
        team = await factory.team(org, "Growth")
        exec_ = await factory.user(org, Role.EXEC)
        lead = await factory.user(org, teams={team: TeamRole.LEAD})
        member = await factory.user(org, teams={team: TeamRole.MEMBER})
        cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
        objective = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
        kr = await factory.key_result(objective, start=0, target=100)
        lead_viewer = await load_viewer(session, lead.id, org.id)
        assert lead_viewer is not None
        proposal = await create_proposal(
            session,
            lead_viewer,
            ProposalDraft(
                objective_id=objective.id,
                base_version=objective.version,
                rationale="Raise the bar.",
                key_results=[KeyResultChangeDraft(key_result_id=kr.id, patch={"target_value": 150.0})],
            ),
        )
    found = World(org.id, [exec_.id, lead.id, member.id], exec_, member, objective.id, kr.id, proposal.id)
    yield found
    async with database.transaction() as session:
        await session.execute(delete(models.Organization).where(models.Organization.id == found.org_id))
        await session.execute(delete(models.User).where(models.User.id.in_(found.user_ids)))


async def at_once(database: Database, *actions: Callable[[AsyncSession], Awaitable[T]]) -> list[T | str]:
    """Run each action in its own write transaction concurrently; a refusal reads as its code."""

    async def run(action: Callable[[AsyncSession], Awaitable[T]]) -> T | str:
        async with database.session(write=True) as session:
            try:
                result = await action(session)
                await session.commit()
                return result
            except DomainError as error:
                await session.rollback()
                return error.code

    return list(await asyncio.gather(*(run(action) for action in actions)))


async def _count(database: Database, stmt: Any) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one())


async def assert_applied_once(database: Database, world: World) -> None:
    async with database.session() as session:
        kr = await session.get(models.KeyResult, world.kr_id)
        objective = await session.get(models.Objective, world.objective_id)
        proposal = await session.get(models.Proposal, world.proposal_id)
        assert kr is not None
        assert objective is not None
        assert proposal is not None
        assert (kr.target_value, kr.version) == (150.0, 2)
        assert objective.version == 2  # moved on exactly once
        assert proposal.status == ProposalStatus.APPLIED
    reviews = select(models.ProposalReview).where(models.ProposalReview.proposal_id == world.proposal_id)
    assert await _count(database, reviews) == 1
    applied = select(models.Event).where(
        models.Event.objective_id == world.objective_id, models.Event.kind == "objective.changed_by_proposal"
    )
    assert await _count(database, applied) == 1


async def test_two_approvals_at_once_apply_the_proposal_once(database: Database, world: World) -> None:
    async def approve(session: AsyncSession) -> str:
        outcome = await review_proposal(
            session, await _viewer(session, world, world.exec_), world.proposal_id, ReviewDecision.APPROVE, None
        )
        return str(outcome.proposal.status)

    results = await at_once(database, approve, approve)
    assert results.count("APPLIED") == 1
    assert {r for r in results if r != "APPLIED"} <= {"TRANSITION_NOT_ALLOWED", "CONFLICT"}
    await assert_applied_once(database, world)


async def test_two_approvals_over_http_at_once(database: Database, settings: Settings, world: World) -> None:
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        variables = {"id": to_global_id("Proposal", world.proposal_id), "decision": "APPROVE"}
        payloads = await asyncio.gather(*(api(REVIEW_PROPOSAL, variables, as_=world.exec_) for _ in range(2)))
    outcomes = sorted(
        "APPLIED" if not p["reviewProposal"]["userErrors"] else p["reviewProposal"]["userErrors"][0]["code"]
        for p in payloads
    )
    assert outcomes[0] == "APPLIED"
    assert outcomes[1] in {"TRANSITION_NOT_ALLOWED", "CONFLICT"}
    await assert_applied_once(database, world)


async def test_two_check_ins_with_one_idempotency_key_store_one(database: Database, world: World) -> None:
    async def check_in(session: AsyncSession) -> int:
        draft = CheckInDraft(
            key_result_id=world.kr_id,
            value=42.0,
            measured_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
            idempotency_key="retry-me",
        )
        stored, _ = await record_check_in(session, await _viewer(session, world, world.member), draft)
        return stored.id

    first, second = await at_once(database, check_in, check_in)
    assert first == second
    stored = select(models.CheckIn).where(models.CheckIn.key_result_id == world.kr_id)
    assert await _count(database, stored) == 1
    async with database.session() as session:
        kr = await session.get(models.KeyResult, world.kr_id)
        assert kr is not None
        assert (kr.checkin_count, kr.value_sum) == (1, 42.0)  # folded into the aggregates once


async def test_two_check_ins_over_http_with_one_key(database: Database, settings: Settings, world: World) -> None:
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        variables = {
            "input": {"keyResultId": to_global_id("KeyResult", world.kr_id), "value": 7, "idempotencyKey": "k"}
        }
        payloads = await asyncio.gather(*(api(RECORD_CHECK_IN, variables, as_=world.member) for _ in range(2)))
    ids = {p["recordCheckIn"]["checkIn"]["id"] for p in payloads}
    assert len(ids) == 1
    stored = select(models.CheckIn).where(models.CheckIn.key_result_id == world.kr_id)
    assert await _count(database, stored) == 1


async def test_concurrent_check_ins_on_one_key_result_all_count(database: Database, world: World) -> None:
    """No lock is taken up front; the one-statement fold must still lose no update."""
    values = [3.0, 5.0, 8.0, 13.0]

    def check_in(value: float) -> Callable[[AsyncSession], Awaitable[int]]:
        async def run(session: AsyncSession) -> int:
            draft = CheckInDraft(key_result_id=world.kr_id, value=value)
            stored, _ = await record_check_in(session, await _viewer(session, world, world.member), draft)
            return stored.id

        return run

    ids = await at_once(database, *(check_in(v) for v in values))
    assert len(set(ids)) == len(values)
    async with database.session() as session:
        kr = await session.get(models.KeyResult, world.kr_id)
        assert kr is not None
        assert (kr.checkin_count, kr.value_sum, kr.value_min, kr.value_max) == (4, 29.0, 3.0, 13.0)
        assert kr.fit_count == 4
