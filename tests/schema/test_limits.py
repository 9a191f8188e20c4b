"""Query limits at and just past each boundary: the refused side never reaches a resolver."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from server.settings import Settings
from tests.fixtures.database import TransactionalDatabase
from tests.fixtures.factories import Factory
from tests.server.hardening import ResolverCalls, app_client, bearer
from workflow import models
from workflow.enums import Role


def nested(depth: int) -> str:
    """A query whose deepest field is at `depth` (the root field is at 0, as graphql-depth-limit counts)."""
    parents = depth - 3
    return "{ objectives(first: 1) { edges { node { " + "parent { " * parents + "id" + " }" * parents + " } } } }"


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(count)) + " }"


def tokens(count: int) -> str:
    """A query of exactly `count` lexical tokens (a long list value: repeated fields would trip
    graphql-core's own overlapping-fields budget first)."""
    return "{ objectives(filter: {status: [" + "ACTIVE " * (count - 16) + "]}) { totalCount } }"


def connection(first: int) -> str:
    return f"{{ objectives(first: {first}) {{ edges {{ node {{ id }} }} }} }}"


async def _ask(
    settings: Settings, db: TransactionalDatabase, user: models.User, query: str, variables: dict | None = None
) -> tuple[httpx.Response, int]:
    calls = ResolverCalls()
    async with app_client(settings, db, calls.extension()) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(user)
        )
    return response, calls.count


@pytest.fixture
async def member(factory: Factory) -> models.User:
    org = await factory.organization()
    return await factory.user(org, Role.MEMBER)


def _messages(response: httpx.Response) -> list[str]:
    return [e["message"] for e in response.json().get("errors") or []]


@pytest.mark.parametrize(
    ("build", "limit", "refusal"),
    [
        (nested, 12, "exceeds maximum operation depth of 12"),
        (aliases, 15, "aliases found. Allowed: 15"),
        (tokens, 5000, "more than 5000 tokens"),
    ],
    ids=["depth", "aliases", "tokens"],
)
async def test_each_default_limit_admits_its_boundary_and_refuses_one_past_it(
    settings: Settings, test_db: TransactionalDatabase, member: models.User, build, limit: int, refusal: str
) -> None:
    at_limit, _ = await _ask(settings, test_db, member, build(limit))
    assert at_limit.status_code == 200
    assert not any(refusal in m for m in _messages(at_limit)), _messages(at_limit)
    # Answered (by resolvers, or by a read plan: the token case's page of totals is one statement).
    assert at_limit.json().get("data"), _messages(at_limit)
    past, past_calls = await _ask(settings, test_db, member, build(limit + 1))
    # A token flood is stopped while parsing, in the HTTP layer (400); the others by validation (200).
    assert past.status_code == (400 if build is tokens else 200)
    assert any(refusal in m for m in _messages(past)), _messages(past)
    assert past.json().get("data") is None
    assert past_calls == 0


async def test_limits_follow_the_settings(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    tight = replace(settings, max_depth=5, max_aliases=2, max_tokens=50)
    assert (await _ask(tight, test_db, member, nested(5)))[1] > 0
    for query in (nested(6), aliases(3), tokens(51)):
        response, calls = await _ask(tight, test_db, member, query)
        assert response.json().get("data") is None, query
        assert calls == 0


async def test_page_size_is_bounded_by_the_configured_maximum(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    ok, _ = await _ask(settings, test_db, member, connection(100))
    assert ok.json().get("errors") is None
    assert ok.json()["data"]["objectives"]["edges"] == []  # answered: the member's organization has none
    for first in (101, 10**9, -1):
        refused, calls = await _ask(settings, test_db, member, connection(first))
        assert _messages(refused) == ["`first` must be between 0 and 100."]
        assert calls == 0
    by_variable, calls = await _ask(
        settings, test_db, member, "query($n: Int) { objectives(first: $n) { totalCount } }", {"n": 101}
    )
    assert _messages(by_variable) == ["`first` must be between 0 and 100."]
    assert calls == 0
    smaller = replace(settings, max_page_size=40)
    refused, calls = await _ask(smaller, test_db, member, connection(41))
    assert _messages(refused) == ["`first` must be between 0 and 40."]
    assert (await _ask(smaller, test_db, member, connection(40)))[0].json().get("errors") is None


async def test_query_cost_counts_first_times_children(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    # objectives(first: N) { edges { node { id } } } costs 1 + 3N: edges, node and id, N times each.
    capped = replace(settings, max_query_cost=31)
    at_limit, _ = await _ask(capped, test_db, member, connection(10))
    assert at_limit.json().get("errors") is None
    assert at_limit.json()["data"]["objectives"]["edges"] == []
    past, calls = await _ask(capped, test_db, member, connection(11))
    [error] = past.json()["errors"]
    assert error["message"].startswith("This query could return up to 34 objects; the limit is 31.")
    assert error["extensions"] == {"code": "LIMIT", "cost": 34, "maxCost": 31}
    assert calls == 0
    # With the defaults, two nested full pages of connections stay under 50,000; a third level does not.
    two_levels = "{ objectives(first: 100) { edges { node { history(first: 100) { edges { node { id } } } } } } }"
    assert (await _ask(settings, test_db, member, two_levels))[0].json().get("errors") is None
    three_levels = (
        "{ objectives(first: 100) { edges { node { history(first: 100) { edges { node { id } } } "
        "keyResults { checkIns(first: 100) { edges { node { id } } } } } } } }"
    )
    refused, calls = await _ask(settings, test_db, member, three_levels)
    assert "This query could return up to" in _messages(refused)[0]
    assert calls == 0


async def test_a_document_holds_one_operation(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    document = "query A { viewer { id } } query B { viewer { id } }"
    async with app_client(settings, test_db) as client:
        named = await client.post("/graphql", json={"query": document, "operationName": "A"}, headers=bearer(member))
        unnamed = await client.post("/graphql", json={"query": document}, headers=bearer(member))
    assert _messages(named) == ["Send one operation per request."]
    assert unnamed.status_code == 400
    assert "several operations" in _messages(unnamed)[0]


async def test_query_text_size_is_bounded(
    settings: Settings, test_db: TransactionalDatabase, member: models.User
) -> None:
    query = "{ viewer { id } }"
    async with app_client(settings, test_db) as client:
        at_limit = query + " " * (settings.max_query_bytes - len(query))
        ok = await client.post("/graphql", json={"query": at_limit}, headers=bearer(member))
        too_long = await client.post("/graphql", json={"query": at_limit + " "}, headers=bearer(member))
    assert ok.json()["data"]["viewer"]["id"]
    assert too_long.status_code == 413
    assert _messages(too_long) == [f"The query is longer than {settings.max_query_bytes} bytes."]


async def test_a_repeated_document_is_validated_once(
    settings: Settings, test_db: TransactionalDatabase, member: models.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation is cached across requests: the limit rules are the same classes every time, so the
    cache key (schema, document, rules) repeats. A per-request rule class revalidated every request."""
    import strawberry.schema.schema as strawberry_schema

    validated: list[str] = []
    real_validate = strawberry_schema.validate

    def counting_validate(schema, document, rules):  # type: ignore[no-untyped-def]
        validated.append(document.loc.source.body if document.loc else "")
        return real_validate(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate", counting_validate)
    # A text no other test sends, so the process-wide caches start cold for it.
    query = "query ValidatedOnce { viewer { id name } }"
    async with app_client(settings, test_db) as client:
        for _ in range(3):
            response = await client.post("/graphql", json={"query": query}, headers=bearer(member))
            assert response.json()["data"]["viewer"]["id"]
    assert validated.count(query) == 1
