"""A hostile-input corpus against the production app: no 5xx, no resolver runs, no hints for attackers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from server.settings import Settings
from tests.fixtures.database import TransactionalDatabase
from tests.fixtures.factories import Factory
from tests.server.hardening import ResolverCalls, app_client, bearer, production
from workflow.enums import Role


@dataclass
class Attack:
    family: str
    method: str = "POST"
    json_body: Any = None
    content: bytes | None = None
    content_type: str = "application/json"
    params: dict[str, str] = field(default_factory=dict)


def _post(family: str, query: str, **extra: Any) -> Attack:
    return Attack(family, json_body={"query": query, **extra})


def corpus() -> Iterator[Attack]:
    for depth in range(13, 73):
        parents = depth - 3
        yield _post(
            "deep nesting",
            "{ objectives { edges { node { " + "parent { " * parents + "id" + " }" * parents + " } } } }",
        )
    for count in range(16, 76):
        yield _post("alias flood", "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(count)) + " }")
    for extra in range(1, 61):
        yield _post(
            "token flood", "{ objectives(filter: {status: [" + "ACTIVE " * (4985 + extra * 50) + "]}) { totalCount } }"
        )
    for size in range(2, 42):
        names = [f"F{i}" for i in range(size)]
        fragments = " ".join(f"fragment {n} on Query {{ ...{names[(i + 1) % size]} }}" for i, n in enumerate(names))
        yield _post("fragment cycle", f"{{ ...F0 }} {fragments}")
        yield _post(
            "fragment self-spread",
            f"query {{ ...{names[-1]} }} fragment {names[-1]} on Query {{ viewer {{ id }} ...{names[-1]} }}",
        )
    for first in [101, 200, 1000, 10**6, 2**31 - 1, -1, -100, *range(102, 135)]:
        yield _post("huge first", f"{{ objectives(first: {first}) {{ edges {{ node {{ id }} }} }} }}")
        yield _post(
            "huge first (variable)", "query($n: Int) { proposals(first: $n) { totalCount } }", variables={"n": first}
        )
    for count in range(1, 41):
        yield Attack("batch", json_body=[{"query": "{ viewer { id } }"}] * count)
    bad_bodies = [
        b"123",
        b'"x"',
        b"null",
        b"true",
        b"[]",
        b"{",
        b"",
        b"\xff\xfe\x00",
        b"{'query': 1}",
        b'{"query": null}',
        b'{"query": ""}',
        b'{"query": 5}',
        b'{"query": "{ viewer { id } }", "variables": "x"}',
        b'{"query": "{ viewer { id } }", "operationName": 7}',
        b"[" * 50_000,
        b'{"a":' * 50_000,
    ]
    for body in bad_bodies:
        yield Attack("bad body", content=body)
        yield Attack("bad body (charset)", content=body, content_type="application/json; charset=utf-8")
    good = json.dumps({"query": "{ viewer { id } }"}).encode()
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
        "text/html",
        "application/javascript",
        "image/png",
        "application/jsonx",
        "json",
        "application/graphql",
        "*/*",
    ]:
        yield Attack("bad content type", content=good, content_type=content_type)
    for i in range(30):
        yield Attack("GET mutation", method="GET", params={"query": f"mutation M{i} {{ markNotificationsRead }}"})
    for i in range(10):
        yield Attack(
            "several operations",
            json_body={"query": f"query A{i} {{ viewer {{ id }} }} query B{i} {{ viewer {{ id }} }}"},
        )
    for name in [
        "viewr",
        "objectivs",
        "teem",
        "cycless",
        "notification",
        "proposal",
        "webhook",
        "nod",
        "viewer2",
        "objective",
    ]:
        yield _post("unknown field", f"{{ {name} {{ id }} }}")
        yield _post("unknown argument", f"{{ objectives(frist: 5, {name}: 1) {{ totalCount }} }}")
        yield _post("unknown enum value", f"{{ objectives(filter: {{status: [{name.upper()}]}}) {{ totalCount }} }}")
    for i in range(10):
        yield _post("introspection", "{ __schema { types { name fields { name } } } }" + " " * i)
        yield _post("syntax error", "{ viewer { id " + "}" * i + "{" * (i + 1))
    yield Attack("oversized body", content=b'{"query": "' + b" " * 1_100_000 + b'{ viewer { id } }"}')


async def test_hostile_input_corpus(settings: Settings, test_db: TransactionalDatabase, factory: Factory) -> None:
    user = await factory.user(await factory.organization(), Role.ADMIN)
    calls = ResolverCalls()
    attacks = list(corpus())
    statuses: Counter[int] = Counter()
    families: Counter[str] = Counter()
    server_errors, suggestions = [], []
    async with app_client(production(settings), test_db, calls.extension()) as client:
        for attack in attacks:
            headers = {**bearer(user), "content-type": attack.content_type}
            if attack.method == "GET":
                response = await client.get("/graphql", params=attack.params, headers=headers)
            elif attack.json_body is not None:
                response = await client.post("/graphql", content=json.dumps(attack.json_body).encode(), headers=headers)
            else:
                response = await client.post("/graphql", content=attack.content, headers=headers)
            statuses[response.status_code] += 1
            families[attack.family] += 1
            if response.status_code >= 500:
                server_errors.append((attack.family, response.status_code, response.text[:200]))
            if "Did you mean" in response.text:
                suggestions.append((attack.family, response.text[:200]))
            refused = response.status_code >= 400 or (
                response.json().get("data") is None and response.json().get("errors")
            )
            assert refused, (attack.family, response.text[:300])
    print(
        f"\nhostile corpus: {len(attacks)} requests in {len(families)} families;",
        f"statuses {dict(sorted(statuses.items()))}",
    )
    print(
        f"hostile corpus: {len(server_errors)} responses 5xx, {calls.count} resolver calls,",
        f"{len(suggestions)} 'Did you mean'",
    )
    assert len(attacks) >= 500
    assert server_errors == []
    assert calls.count == 0
    assert suggestions == []
