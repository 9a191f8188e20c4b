"""Outgoing webhooks: registration over GraphQL, signatures, and retries against a real receiver."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import String, cast, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schema.ids import to_global_id
from server.app import create_app
from server.database import Database
from server.metrics import WEBHOOK_FAILURES
from server.scheduler import Scheduler
from server.settings import Settings
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.server.committed_data import committed_factory, drop_organization
from tests.server.fake_clock import FakeClock
from tests.server.loopback import serve
from workflow import models
from workflow.enums import Role, TeamRole
from workflow.services import events, webhooks

CREATE = """
mutation($input: WebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url eventKinds active } userErrors { code field message } }
}
"""
DELIVERIES = """
query { webhookDeliveries(first: 10) { totalCount edges { node {
  eventKind status attempts lastStatusCode webhookId
} } } }
"""
CHECK_IN = """
mutation($input: CheckInInput!) {
  recordCheckIn(input: $input) { checkIn { value } userErrors { code message } }
}
"""


def test_signature_covers_timestamp_and_body() -> None:
    body = b'{"event":"x"}'
    signature = webhooks.sign("s3cret", "1700000000", body)
    assert signature.startswith("sha256=")
    assert webhooks.verify("s3cret", "1700000000", body, signature)
    assert not webhooks.verify("s3cret", "1700000001", body, signature)
    assert not webhooks.verify("s3cret", "1700000000", body + b" ", signature)
    assert not webhooks.verify("other", "1700000000", body, signature)


def test_retry_schedule_backs_off_then_gives_up() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    waits = [webhooks.retry_at(n, now) for n in range(1, webhooks.MAX_ATTEMPTS + 1)]
    delays = [w - now for w in waits if w is not None]
    assert delays == sorted(delays)
    assert delays[0] == dt.timedelta(seconds=30)
    assert waits[-1] is None


@pytest.mark.parametrize(
    ("kinds", "kind", "expected"),
    [
        ([], "objective.approve", True),
        (["objective"], "objective.approve", True),
        (["objective.*"], "objective.approve", True),
        (["objective.approve"], "objective.approve", True),
        (["objective"], "objectives.x", False),
        (["key_result.checked_in"], "objective.approve", False),
    ],
)
def test_event_kind_filter(kinds: list[str], kind: str, expected: bool) -> None:
    assert webhooks.matches(kinds, kind) is expected


async def test_only_admins_manage_webhooks_and_urls_are_checked(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    admin = await factory.user(org, Role.ADMIN)
    member = await factory.user(org, Role.MEMBER)

    refused = await api(CREATE, {"input": {"url": "https://hooks.example.test/x"}}, as_=member)
    assert refused["createWebhook"]["webhook"] is None
    assert refused["createWebhook"]["userErrors"][0]["code"] == "FORBIDDEN"

    for refused_url in ("http://hooks.example.test/x", "https://169.254.169.254/latest", "ftp://x.test/"):
        bad = await api(CREATE, {"input": {"url": refused_url}}, as_=admin)
        assert bad["createWebhook"]["userErrors"][0]["field"] == "url", refused_url

    created = await api(
        CREATE, {"input": {"url": "https://hooks.example.test/x", "eventKinds": ["objective"]}}, as_=admin
    )
    payload = created["createWebhook"]
    assert payload["userErrors"] == []
    assert len(payload["secret"]) >= 32
    assert payload["webhook"]["eventKinds"] == ["objective"]

    listed = await api("query { webhooks { id url } }", as_=admin)
    assert [w["url"] for w in listed["webhooks"]] == ["https://hooks.example.test/x"]
    response = await api.post("query { webhooks { id } }", as_=member)
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "Only organization admins manage webhooks."

    deleted = await api(
        "mutation($id: ID!) { deleteWebhook(id: $id) { deletedId userErrors { code } } }",
        {"id": payload["webhook"]["id"]},
        as_=admin,
    )
    assert deleted["deleteWebhook"]["deletedId"] == payload["webhook"]["id"]
    assert (await api("query { webhooks { id } }", as_=admin))["webhooks"] == []


class FlakyReceiver:
    """Refuses the first `failures` deliveries with a 500, then accepts; checks every signature."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.secret = ""
        self.attempts: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers[webhooks.TIMESTAMP_HEADER]
        valid = webhooks.verify(self.secret, timestamp, body, request.headers[webhooks.SIGNATURE_HEADER])
        self.attempts.append({"valid": valid, "delivery": request.headers["X-OKR-Delivery"]})
        if not valid:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if len(self.attempts) <= self.failures:
            return JSONResponse({"error": "try later"}, status_code=500)
        self.accepted.append(json.loads(body))
        return JSONResponse({"ok": True})


@pytest.fixture
async def live_api(settings: Settings, database: Database) -> AsyncIterator[Api]:
    """The real app on the run's database: what it writes is committed, so a scheduler sees it."""
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client)


async def test_a_receiver_that_fails_twice_gets_the_check_in_exactly_once(database: Database, live_api: Api) -> None:
    receiver = FlakyReceiver(failures=2)
    async with committed_factory(database) as factory:
        org = await factory.organization()
        team = await factory.team(org, "Growth")
        admin = await factory.user(org, Role.ADMIN, name="Ada Admin")
        member = await factory.user(org, Role.MEMBER, name="Mo Member", teams={team: TeamRole.MEMBER})
        cycle = await factory.cycle(org)
        objective = await factory.objective(cycle, team, title="Delight customers")
        kr = await factory.key_result(objective, title="NPS", start=10, target=50)
    try:
        async with serve(receiver.app) as base_url:
            created = await live_api(
                CREATE,
                {"input": {"url": f"{base_url}/hook", "eventKinds": ["key_result.checked_in"]}},
                as_=admin,
            )
            receiver.secret = created["createWebhook"]["secret"]
            checked = await live_api(
                CHECK_IN,
                {"input": {"keyResultId": to_global_id("KeyResult", kr.id), "value": 20, "note": "survey"}},
                as_=member,
            )
            assert checked["recordCheckIn"]["userErrors"] == []

            clock = FakeClock(dt.datetime.now(dt.UTC))
            scheduler = Scheduler(database, clock=clock, name="webhook-test")
            try:
                for wait in (dt.timedelta(0), webhooks.RETRY_DELAYS[0], webhooks.RETRY_DELAYS[1]):
                    clock.current += wait
                    await scheduler.tick()
                clock.current += dt.timedelta(days=1)
                await scheduler.tick()  # nothing left to send: no fourth attempt
            finally:
                await scheduler.stop()

        assert [a["valid"] for a in receiver.attempts] == [True, True, True]
        assert len({a["delivery"] for a in receiver.attempts}) == 1, "retries resend the same delivery"
        assert len(receiver.accepted) == 1
        event = receiver.accepted[0]
        assert event["event"] == "key_result.checked_in"
        assert event["objective"] == {"id": to_global_id("Objective", objective.id), "title": "Delight customers"}
        assert event["actor"]["name"] == "Mo Member"
        assert "Delight customers" in event["text"]

        log = (await live_api(DELIVERIES, as_=admin))["webhookDeliveries"]
        assert log["totalCount"] == 1
        assert log["edges"][0]["node"] == {
            "eventKind": "key_result.checked_in",
            "status": "DELIVERED",
            "attempts": 3,
            "lastStatusCode": 200,
            "webhookId": created["createWebhook"]["webhook"]["id"],
        }
    finally:
        await drop_organization(database, org.id)


async def test_only_committed_events_become_deliveries(database: Database) -> None:
    async with committed_factory(database) as factory:
        org = await factory.organization()
        cycle = await factory.cycle(org)
        objective = await factory.objective(cycle, title="Ship less, learn more")
        factory.session.add(models.Webhook(organization_id=org.id, url="https://h.example.test", secret="s"))
    webhooks.install()
    try:
        async with database.transaction() as session:
            refused = await session.begin_nested()
            await events.record_event(
                session,
                organization_id=org.id,
                actor=None,
                kind="objective.rolled_back",
                subject_type="Objective",
                subject_id=objective.id,
                objective_id=objective.id,
            )
            await refused.rollback()
            await events.record_event(
                session,
                organization_id=org.id,
                actor=None,
                kind="objective.approve",
                subject_type="Objective",
                subject_id=objective.id,
                objective_id=objective.id,
            )
        async with database.transaction(write=False) as session:
            rows = (
                await session.execute(
                    select(models.WebhookDelivery.event_kind, models.Job.kind)
                    .join(models.Job, models.Job.key == "webhook-delivery:" + cast(models.WebhookDelivery.id, String))
                    .where(models.WebhookDelivery.organization_id == org.id)
                )
            ).all()
        assert [tuple(r) for r in rows] == [("objective.approve", webhooks.DELIVERY_JOB)]
    finally:
        await drop_organization(database, org.id)


async def test_a_receiver_that_never_answers_is_given_up_on_schedule(database: Database) -> None:
    async with committed_factory(database) as factory:
        org = await factory.organization()
        cycle = await factory.cycle(org)
        objective = await factory.objective(cycle, title="Unheard")
        down = models.Webhook(organization_id=org.id, url="https://down.example.test/hook", secret="s")
        off = models.Webhook(organization_id=org.id, url="https://off.example.test/hook", secret="s")
        factory.session.add_all([down, off])
    webhooks.install()
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(503)

    try:
        async with database.transaction() as session:
            await events.record_event(
                session,
                organization_id=org.id,
                actor=None,
                kind="objective.approve",
                subject_type="Objective",
                subject_id=objective.id,
                objective_id=objective.id,
            )
        async with database.transaction() as session:
            (await session.get(models.Webhook, off.id)).active = False  # type: ignore[union-attr]

        failures_before = WEBHOOK_FAILURES._value.get()
        clock = FakeClock(dt.datetime.now(dt.UTC))
        http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
        scheduler = Scheduler(database, clock=clock, name="give-up", http=http)
        for wait in (dt.timedelta(0), *webhooks.RETRY_DELAYS, dt.timedelta(days=1)):
            clock.current += wait
            await scheduler.tick()
        await scheduler.stop()
        await http.aclose()

        assert calls == ["https://down.example.test/hook"] * webhooks.MAX_ATTEMPTS
        assert WEBHOOK_FAILURES._value.get() - failures_before == webhooks.MAX_ATTEMPTS
        async with database.transaction(write=False) as session:
            rows = (
                await session.execute(
                    select(
                        models.WebhookDelivery.webhook_id,
                        models.WebhookDelivery.status,
                        models.WebhookDelivery.attempts,
                    )
                    .where(models.WebhookDelivery.organization_id == org.id)
                    .order_by(models.WebhookDelivery.webhook_id)
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (down.id, webhooks.FAILED, webhooks.MAX_ATTEMPTS),
            (off.id, webhooks.FAILED, 0),
        ]
    finally:
        await drop_organization(database, org.id)
