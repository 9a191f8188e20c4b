"""The HTTP layer under bad input and abuse: clear 4xx answers, masked faults, origins, limits, logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from server.middleware.logs import JsonFormatter
from server.settings import Settings
from tests.fixtures.database import TransactionalDatabase
from tests.fixtures.factories import Factory
from tests.server.hardening import Faults, app_client, bearer, production
from workflow import models
from workflow.enums import Role

VIEWER = "{ viewer { id name } }"


@pytest.fixture
async def member(factory: Factory) -> models.User:
    return await factory.user(await factory.organization(), Role.MEMBER)


def _message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"123", "application/json", 400, "must be a JSON object"),
        (b'"x"', "application/json", 400, "must be a JSON object"),
        (b"null", "application/json", 400, "must be a JSON object"),
        (b'[{"query": "{ viewer { id } }"}]', "application/json", 400, "Batched requests are not supported"),
        (b'{"query": ', "application/json", 400, "not valid JSON"),
        (b"[" * 100_000, "application/json", 400, "not valid JSON"),
        (b'{"query": "{ viewer { id } }"}', "text/plain", 415, "Content-Type: application/json"),
        (b"query={viewer{id}}", "application/x-www-form-urlencoded", 415, "Content-Type: application/json"),
        (b'{"query": 5}', "application/json", 400, "`query` must be a non-empty string"),
        (b'{"query": "{ viewer { id } }", "variables": [1]}', "application/json", 400, "`variables` must be"),
        (b'{"query": "query A { viewer { id } } query B { viewer { id } }"}', "application/json", 400, "several"),
    ],
)
async def test_malformed_requests_get_a_clear_4xx(
    settings: Settings, test_db: TransactionalDatabase, body: bytes, content_type: str, status: int, message: str
) -> None:
    async with app_client(production(settings), test_db) as client:
        response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert message in _message(response)
    assert response.json()["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_oversized_bodies_are_refused_without_reading_them_whole(
    settings: Settings, test_db: TransactionalDatabase
) -> None:
    small = production(settings, max_body_bytes=1000)
    body = json.dumps({"query": "{ viewer { id } }", "variables": {"pad": "x" * 2000}}).encode()

    async def chunks():  # no Content-Length: the limit holds while streaming too
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    async with app_client(small, test_db) as client:
        declared = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
        streamed = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert declared.status_code == streamed.status_code == 413
    assert "larger than 1000 bytes" in _message(streamed)


async def test_mutations_over_get_are_refused(settings: Settings, test_db: TransactionalDatabase, member) -> None:
    async with app_client(production(settings), test_db) as client:
        mutation = await client.get(
            "/graphql", params={"query": "mutation { markNotificationsRead }"}, headers=bearer(member)
        )
        query = await client.get("/graphql", params={"query": VIEWER}, headers=bearer(member))
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"
    assert query.status_code == 200
    assert query.json()["data"]["viewer"]["name"] == member.name


async def test_production_hides_introspection_suggestions_and_graphiql(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    async with app_client(production(settings), test_db) as client:
        typo = await client.post("/graphql", json={"query": "{ viewr { id } }"}, headers=bearer(member))
        enum_typo = await client.post(
            "/graphql",
            json={"query": "{ objectives(filter: {status: [ACTIV]}) { totalCount } }"},
            headers=bearer(member),
        )
        introspection = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=bearer(member)
        )
        ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert _message(typo) == "Cannot query field 'viewr' on type 'Query'."
    assert "Did you mean" not in enum_typo.text
    assert "introspection has been disabled" in _message(introspection)
    assert "graphiql" not in ide.text.lower()
    async with app_client(settings, test_db) as client:  # development keeps the helpers
        dev_typo = await client.post("/graphql", json={"query": "{ viewr { id } }"}, headers=bearer(member))
    assert "Did you mean 'viewer'?" in _message(dev_typo)


async def test_injected_internal_errors_are_masked_and_logged_with_request_ids(
    settings: Settings, test_db: TransactionalDatabase, member: models.User, caplog: pytest.LogCaptureFixture
) -> None:
    faults = Faults()
    leaked, answered = 0, 0
    request_ids: dict[str, str] = {}
    caplog.set_level(logging.ERROR, logger="okr.errors")
    async with app_client(production(settings), test_db, faults.extension()) as client:
        for n in range(100):
            faults.marker = f"MARKER-{n:03d}-7f3a"
            response = await client.post("/graphql", json={"query": VIEWER}, headers=bearer(member))
            assert response.status_code == 200
            [error] = response.json()["errors"]
            leaked += faults.marker in response.text or "Traceback" in response.text
            answered += error["message"] == "Unexpected error."
            assert error["extensions"]["requestId"] == response.headers["x-request-id"]
            request_ids[faults.marker] = response.headers["x-request-id"]
    formatter = JsonFormatter()
    logged = {}
    for record in caplog.records:
        line = json.loads(formatter.format(record))
        for marker, request_id in request_ids.items():
            if marker in line["message"] and line["request_id"] == request_id:
                logged[marker] = line
    print(f"\nmasking: 100 injected errors, {leaked} markers in responses, {len(logged)} in logs with request ids")
    assert leaked == 0
    assert answered == 100
    assert len(logged) == 100
    assert "Traceback" in next(iter(logged.values()))["exception"]


async def test_domain_errors_keep_their_message_in_production(
    settings: Settings, test_db: TransactionalDatabase
) -> None:
    async with app_client(production(settings), test_db) as client:
        anonymous = await client.post("/graphql", json={"query": VIEWER})
    assert "Sign in" in _message(anonymous)


async def test_request_timeout_stops_a_slow_request(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    faults = Faults()
    faults.delay = 2.0
    async with app_client(production(settings, request_timeout=0.2), test_db, faults.extension()) as client:
        response = await client.post("/graphql", json={"query": VIEWER}, headers=bearer(member))
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert response.headers["retry-after"] == "1"


async def test_cors_allows_listed_origins_and_refuses_other_cross_origin_requests(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    allowed = "https://okr.example.com"
    async with app_client(production(settings, cors_origins=(allowed,)), test_db) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "origin": allowed,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )
        listed = await client.post("/graphql", json={"query": VIEWER}, headers={**bearer(member), "origin": allowed})
        same_origin = await client.post(
            "/graphql", json={"query": VIEWER}, headers={**bearer(member), "origin": "http://testserver"}
        )
        foreign = await client.post(
            "/graphql", json={"query": VIEWER}, headers={**bearer(member), "origin": "https://evil.example"}
        )
        simple_form = await client.post(
            "/graphql",
            content=b"query={viewer{id}}",
            headers={"origin": "https://evil.example", "content-type": "application/x-www-form-urlencoded"},
        )
        cross_site_get = await client.get(
            "/graphql", params={"query": VIEWER}, headers={**bearer(member), "sec-fetch-site": "cross-site"}
        )
        foreign_preflight = await client.options(
            "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == allowed
    assert same_origin.status_code == 200
    assert foreign.status_code == simple_form.status_code == cross_site_get.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    assert foreign_preflight.status_code == 400


async def test_security_headers_on_the_web_app(settings: Settings, test_db: TransactionalDatabase) -> None:
    async with app_client(production(settings), test_db) as client:
        page = await client.get("/")
        api = await client.post("/graphql", json={"query": VIEWER})
    for response in (page, api):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert response.headers["x-frame-options"] == "DENY"


async def test_rate_limits_per_user_and_per_address(
    settings: Settings, test_db: TransactionalDatabase, factory: Factory
) -> None:
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    limited = production(settings, rate_limit_per_minute=3)
    async with app_client(limited, test_db) as client:
        # A fresh token for every request: the budget belongs to the user, not to the credential.
        alice_statuses = [
            (await client.post("/graphql", json={"query": VIEWER}, headers=bearer(alice))).status_code for _ in range(4)
        ]
        refused = await client.post("/graphql", json={"query": VIEWER}, headers=bearer(alice))
        bob_ok = await client.post("/graphql", json={"query": VIEWER}, headers=bearer(bob))
        # The address as a whole gets ten users' worth: 30 a minute here.
        rest = [(await client.post("/graphql", json={"query": VIEWER})).status_code for _ in range(30)]
    assert alice_statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert bob_ok.status_code == 200  # another user from the same address has their own budget
    assert rest[-1] == 429
    assert rest.count(429) == 6  # 30 for the address: 5 by alice, 1 by bob, 24 more, then refused


async def test_sign_in_is_rate_limited_per_address(settings: Settings, test_db: TransactionalDatabase) -> None:
    limited = production(settings, signin_rate_limit_per_minute=2)
    async with app_client(limited, test_db, client_address="192.0.2.10") as client:
        statuses = [(await client.get("/auth/login")).status_code for _ in range(3)]
    async with app_client(limited, test_db, client_address="192.0.2.11") as other:
        elsewhere = (await other.get("/auth/login")).status_code
    assert statuses[2] == 429
    assert 429 not in statuses[:2]
    assert elsewhere != 429


async def test_access_log_is_structured_and_never_holds_credentials(
    settings: Settings, test_db: TransactionalDatabase, member: models.User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="okr")
    headers = {**bearer(member), "cookie": "okr_session=SESSION-SECRET-1234", "x-request-id": "trace-0123456789"}
    async with app_client(production(settings), test_db) as client:
        response = await client.post("/graphql", json={"query": "query WhoAmI { viewer { id } }"}, headers=headers)
        await client.get("/auth/callback", params={"code": "OAUTH-CODE-SECRET", "state": "s"})
    assert response.headers["x-request-id"] == "trace-0123456789"
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    access = [json.loads(line) for line in lines if '"okr.access"' in line]
    graphql = next(a for a in access if a["path"] == "/graphql")
    assert graphql["request_id"] == "trace-0123456789"
    assert graphql["user_id"] == member.id
    assert graphql["operation"] == "WhoAmI"
    assert graphql["status"] == 200
    assert graphql["duration_ms"] >= 0
    everything = "\n".join(lines)
    token = headers["Authorization"].removeprefix("Bearer ")
    for secret in (token, "SESSION-SECRET-1234", "OAUTH-CODE-SECRET"):
        assert secret not in everything


async def test_a_bad_argument_deep_in_a_list_leaves_the_transaction_usable(
    settings: Settings, test_db: TransactionalDatabase, factory: Factory
) -> None:
    # One list item fails while its siblings are still reading: they must finish, not be cancelled
    # mid-query (which broke the connection and answered 500 for this and every later request).
    org = await factory.organization()
    admin = await factory.user(org, Role.ADMIN)
    cycle = await factory.cycle(org)
    for n in range(4):
        team = await factory.team(org, f"Team {n}")
        await factory.objective(cycle, team)
    query = '{ teams { name objectives(cycleId: "") { id title } } }'
    async with app_client(production(settings), test_db) as client:
        bad = await client.post("/graphql", json={"query": query}, headers=bearer(admin))
        after = await client.post("/graphql", json={"query": "{ teams { name } }"}, headers=bearer(admin))
    assert bad.status_code == 200
    assert _message(bad) == "No cycle with that id."
    assert after.status_code == 200
    assert len(after.json()["data"]["teams"]) == 4


async def _handshake(app: object, origin: str) -> dict:
    """The first thing the app answers to a WebSocket handshake from `origin`."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"origin", origin.encode())],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "state": {},
    }
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[operator]
    return sent[0]


async def test_websocket_handshakes_from_foreign_origins_are_refused(
    settings: Settings, test_db: TransactionalDatabase
) -> None:
    from server.app import create_app

    app = create_app(production(settings), test_db)
    refused = await _handshake(app, "https://evil.example")
    same_origin = await _handshake(app, "http://testserver")
    assert refused == {"type": "websocket.close", "code": 4403, "reason": "origin not allowed"}
    # The same origin passes to authentication, which refuses this anonymous handshake on its own terms.
    assert same_origin == {"type": "websocket.close", "code": 4401, "reason": "unauthenticated"}
