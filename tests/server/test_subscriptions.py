"""Live updates over a real websocket (graphql-transport-ws) against the app served by uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from schema.ids import to_global_id
from server.app import create_app
from server.database import Database
from server.settings import Settings
from tests.fixtures.api import Api
from tests.fixtures.oidc import TEST_IDP
from tests.server.committed_data import committed_factory, drop_organization
from tests.server.loopback import serve
from workflow import models
from workflow.enums import Role, TeamRole, Visibility
from workflow.services import events

OBJECTIVE_UPDATED = """
subscription($cycleId: ID!) {
  objectiveUpdated(cycleId: $cycleId) { title keyResults { title currentValue } }
}
"""
NOTIFICATION_ADDED = "subscription { notificationAdded { kind message read } }"
CHECK_IN = """
mutation($input: CheckInInput!) { recordCheckIn(input: $input) { userErrors { code message } } }
"""
PROTOCOL = "graphql-transport-ws"


@dataclass
class Live:
    base_url: str
    app: Any
    org: models.Organization
    cycle: models.Cycle
    author: models.User
    teammate: models.User
    outsider: models.User
    team_kr: models.KeyResult
    open_kr: models.KeyResult


@pytest.fixture
async def live(settings: Settings, database: Database) -> AsyncIterator[Live]:
    async with committed_factory(database) as factory:
        org = await factory.organization()
        team = await factory.team(org, "Growth")
        author = await factory.user(org, Role.MEMBER, name="Author", teams={team: TeamRole.MEMBER})
        teammate = await factory.user(org, Role.MEMBER, name="Teammate", teams={team: TeamRole.MEMBER})
        outsider = await factory.user(org, Role.MEMBER, name="Outsider")
        cycle = await factory.cycle(org)
        secret = await factory.objective(cycle, team, title="Team only", visibility=Visibility.TEAM)
        team_kr = await factory.key_result(secret, title="Signups", start=0, target=100)
        public = await factory.objective(cycle, team, title="Everyone's")
        open_kr = await factory.key_result(public, title="Visits", start=0, target=100)
    app = create_app(replace(settings, max_subscriptions_per_connection=2), database)
    app.state.idp_verifier = TEST_IDP
    try:
        async with serve(app) as base_url:
            yield Live(base_url, app, org, cycle, author, teammate, outsider, team_kr, open_kr)
    finally:
        await app.state.live_broker.close()
        await drop_organization(database, org.id)


def headers(user: models.User) -> dict[str, str]:
    return Api(httpx.AsyncClient()).headers_for(user)


@asynccontextmanager
async def socket(live: Live, user: models.User | None) -> AsyncIterator[ClientConnection]:
    url = live.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url,
        subprotocols=[PROTOCOL],
        additional_headers=headers(user) if user else {},
        open_timeout=5,  # type: ignore[list-item]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        yield ws


async def subscribe(ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
    await ws.send(
        json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
    )


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def listening(live: Live, channel: str, count: int) -> None:
    """Wait until `count` subscriptions are registered with the broker, so nothing is published too early."""
    broker = live.app.state.live_broker
    for _ in range(500):
        if broker.subscriber_count(channel) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {broker.subscriber_count(channel)} of {count} subscriptions registered")


async def check_in(live: Live, kr: models.KeyResult, value: float) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": CHECK_IN,
                "variables": {"input": {"keyResultId": to_global_id("KeyResult", kr.id), "value": value}},
            },
            headers=headers(live.author),
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["recordCheckIn"]["userErrors"] == []


async def test_a_check_in_reaches_who_can_see_it_and_never_who_cannot(live: Live) -> None:
    variables = {"cycleId": to_global_id("Cycle", live.cycle.id)}
    async with socket(live, live.teammate) as teammate, socket(live, live.outsider) as outsider:
        await subscribe(teammate, "t", OBJECTIVE_UPDATED, variables)
        await subscribe(outsider, "o", OBJECTIVE_UPDATED, variables)
        await listening(live, "objective", 2)

        await check_in(live, live.team_kr, 42)
        seen = await next_message(teammate)
        assert seen["type"] == "next"
        assert seen["id"] == "t"
        assert seen["payload"]["data"]["objectiveUpdated"] == {
            "title": "Team only",
            "keyResults": [{"title": "Signups", "currentValue": 42.0}],
        }

        # The outsider's first message is the check-in it may see: the team-only one never came.
        await check_in(live, live.open_kr, 7)
        first = await next_message(outsider)
        assert first["payload"]["data"]["objectiveUpdated"]["title"] == "Everyone's"
        assert (await next_message(teammate))["payload"]["data"]["objectiveUpdated"]["keyResults"][0][
            "currentValue"
        ] == 7.0


async def test_notifications_reach_only_their_recipient(live: Live, database: Database) -> None:
    async with socket(live, live.teammate) as teammate, socket(live, live.outsider) as outsider:
        await subscribe(teammate, "n", NOTIFICATION_ADDED)
        await subscribe(outsider, "n", NOTIFICATION_ADDED)
        await listening(live, "notification", 2)
        async with database.transaction() as session:
            await events.notify(
                session,
                organization_id=live.org.id,
                user_ids=[live.teammate.id],
                kind="check_in_reminder",
                message="Time for a check-in",
            )
        message = await next_message(teammate)
        assert message["payload"]["data"]["notificationAdded"] == {
            "kind": "check_in_reminder",
            "message": "Time for a check-in",
            "read": False,
        }
        async with database.transaction() as session:
            await events.notify(
                session, organization_id=live.org.id, user_ids=[live.outsider.id], kind="X", message="yours"
            )
        assert (await next_message(outsider))["payload"]["data"]["notificationAdded"]["message"] == "yours"


async def test_subscriptions_per_connection_are_limited(live: Live) -> None:
    async with socket(live, live.teammate) as ws:
        for op in ("a", "b"):
            await subscribe(ws, op, NOTIFICATION_ADDED)
        await listening(live, "notification", 2)
        await subscribe(ws, "c", NOTIFICATION_ADDED)
        refused = await next_message(ws)
        assert refused["id"] == "c"
        assert "At most 2 subscriptions" in json.dumps(refused["payload"])
        # Completing one frees a slot.
        await ws.send(json.dumps({"id": "a", "type": "complete"}))
        for _ in range(500):
            if live.app.state.live_broker.subscriber_count("notification") == 1:
                break
            await asyncio.sleep(0.01)
        await subscribe(ws, "d", NOTIFICATION_ADDED)
        await listening(live, "notification", 2)


async def test_a_websocket_without_credentials_is_refused_at_connection(live: Live) -> None:
    with pytest.raises((ConnectionClosed, Exception)) as refused:
        async with socket(live, None):
            pass
    assert "4401" in str(refused.value) or "403" in str(refused.value)


async def test_postgres_fan_out_reaches_other_processes(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY fan-out needs PostgreSQL; SQLite runs one process with the in-process broker")
    from server.pubsub import broker_for

    here, there = broker_for(database_url), broker_for(database_url)
    try:
        received = here.subscribe("objective")
        first = asyncio.ensure_future(anext(received))
        await listening_on(here, "objective")
        await there.publish("objective", {"org": 1, "objective": 7})
        assert await asyncio.wait_for(first, 5) == {"org": 1, "objective": 7}
        await received.aclose()  # type: ignore[attr-defined]
    finally:
        await here.close()
        await there.close()


async def listening_on(broker: Any, channel: str) -> None:
    for _ in range(500):
        if broker.subscriber_count(channel):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never registered")
