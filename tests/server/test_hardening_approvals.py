"""50 people approve one proposal at the same moment, over HTTP, on committed data (both engines)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy import delete, func, select

from schema.ids import to_global_id
from server.app import create_app
from server.database import Database
from server.settings import Settings
from tests.fixtures.factories import Factory
from tests.fixtures.oidc import TEST_IDP
from tests.schema.workflow_ops import REVIEW_PROPOSAL
from tests.server.hardening import bearer
from workflow import models
from workflow.enums import CyclePhase, ObjectiveStatus, ProposalStatus, Role, TeamRole
from workflow.services.proposals import KeyResultChangeDraft, ProposalDraft, create_proposal
from workflow.viewer import load_viewer

APPROVERS = 50


@dataclass
class Scene:
    org_id: int
    user_ids: list[int]
    approvers: list[models.User]
    objective_id: int
    objective_version: int
    proposal_id: int


@pytest.fixture
async def scene(database: Database) -> AsyncIterator[Scene]:
    async with database.transaction() as session:
        factory = Factory(session)
        org = await factory.organization()
        team = await factory.team(org, "Growth")
        lead = await factory.user(org, teams={team: TeamRole.LEAD})
        approvers = [await factory.user(org, Role.EXEC) for _ in range(APPROVERS)]
        cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
        objective = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
        kr = await factory.key_result(objective, start=0, target=100)
        viewer = await load_viewer(session, lead.id, org.id)
        assert viewer is not None
        proposal = await create_proposal(
            session,
            viewer,
            ProposalDraft(
                objective_id=objective.id,
                base_version=objective.version,
                rationale="Raise the bar.",
                key_results=[KeyResultChangeDraft(key_result_id=kr.id, patch={"target_value": 150.0})],
            ),
        )
    user_ids = [lead.id, *(a.id for a in approvers)]
    yield Scene(org.id, user_ids, approvers, objective.id, objective.version, proposal.id)
    async with database.transaction() as session:
        await session.execute(delete(models.Organization).where(models.Organization.id == org.id))
        await session.execute(delete(models.User).where(models.User.id.in_(user_ids)))


async def test_fifty_simultaneous_approvals_apply_once(database: Database, settings: Settings, scene: Scene) -> None:
    app = create_app(replace(settings, rate_limit_per_minute=100_000), database)
    app.state.idp_verifier = TEST_IDP
    variables = {"id": to_global_id("Proposal", scene.proposal_id), "decision": "APPROVE"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(
                client.post("/graphql", json={"query": REVIEW_PROPOSAL, "variables": variables}, headers=bearer(user))
                for user in scene.approvers
            )
        )
    outcomes: Counter[str] = Counter()
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        errors = body["data"]["reviewProposal"]["userErrors"]
        outcomes["APPLIED" if not errors else errors[0]["code"]] += 1
    locked = sum("database is locked" in r.text for r in responses)
    async with database.session() as session:
        objective = await session.get(models.Objective, scene.objective_id)
        proposal = await session.get(models.Proposal, scene.proposal_id)
        reviews = await session.execute(
            select(func.count()).where(models.ProposalReview.proposal_id == scene.proposal_id)
        )
        assert objective is not None
        assert proposal is not None
        version_moves = objective.version - scene.objective_version
        review_count = reviews.scalar_one()
    conflicts = APPROVERS - outcomes["APPLIED"]
    print(
        f"\napprovals: {APPROVERS} at once on {database.engine.dialect.name}: {outcomes['APPLIED']} applied, "
        f"{conflicts} typed conflicts {dict(outcomes)}, {locked} 'database is locked', version +{version_moves}"
    )
    assert outcomes["APPLIED"] == 1
    assert conflicts == APPROVERS - 1
    assert set(outcomes) - {"APPLIED"} <= {"TRANSITION_NOT_ALLOWED", "CONFLICT", "VERSION_CONFLICT", "STALE_PROPOSAL"}
    assert locked == 0
    assert version_moves == 1
    assert proposal.status == ProposalStatus.APPLIED
    assert review_count == 1
