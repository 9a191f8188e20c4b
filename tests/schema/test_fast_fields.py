"""The fast path for parent-only fields: which fields it takes over, and that answers do not change."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncSession

from schema.app_schema import Mutation, Query
from schema.context import Context
from schema.fast_fields import install_fast_resolvers
from schema.ids import to_global_id
from schema.types import NODE_TYPES
from tests.fixtures.factories import Factory
from workflow.enums import Role, Visibility
from workflow.viewer import load_viewer

QUERY = """
query($id: ID!) {
  node(id: $id) { id ... on Objective {
    title status visibility weight version tags progress health color
    cycle { id name expectedProgress }
    keyResults { id title targetValue currentValue progress rawProgress counterMetricWorse health }
  } }
}
"""


def plain_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, types=list(NODE_TYPES))


def resolver_of(schema: strawberry.Schema, type_name: str, field: str) -> Any:
    graphql_type = schema._schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type.fields[field].resolve


def test_parent_only_fields_take_the_fast_path_and_async_ones_do_not() -> None:
    schema = plain_schema()
    before = {
        f: resolver_of(schema, *f.split("."))
        for f in ("Objective.id", "Objective.health", "Objective.score", "KeyResult.progress")
    }
    rewired = install_fast_resolvers(schema)
    assert rewired > 50
    assert resolver_of(schema, "Objective", "id") is not before["Objective.id"]
    assert resolver_of(schema, "KeyResult", "progress") is not before["KeyResult.progress"]
    assert resolver_of(schema, "Objective", "title").__name__ == "read"
    # Figures answer synchronously from loaded rows (awaiting only when a row is missing): fast path.
    assert resolver_of(schema, "Objective", "health") is not before["Objective.health"]
    # Async resolvers keep strawberry's path.
    assert resolver_of(schema, "Objective", "score") is before["Objective.score"]


async def test_the_fast_path_answers_exactly_as_strawberry_does(session: AsyncSession, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org, "Company")
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org)
    objective = await factory.objective(cycle, team, visibility=Visibility.TEAM, tags=["growth"])
    kr = await factory.key_result(objective, start=10, target=30)
    await factory.key_result(objective, start=5, target=1, direction="DECREASE", counter_metric=True)
    await factory.check_in(kr, cycle, exec_, 15.0)
    viewer = await load_viewer(session, exec_.id, org.id)

    async def answer(schema: strawberry.Schema) -> dict[str, Any]:
        context = Context(session_factory=lambda write=False: session, viewer_or_none=viewer)
        result = await schema.execute(QUERY, {"id": to_global_id("Objective", objective.id)}, context_value=context)
        assert result.errors is None
        assert result.data is not None
        return result.data

    slow = plain_schema()
    fast = plain_schema()
    install_fast_resolvers(fast)
    expected = await answer(slow)
    assert expected["node"]["keyResults"][0]["progress"] == 0.25
    answered = await answer(fast)
    assert answered == expected
    # Same keys in the same order: leaves completed inline keep their place in the selection.
    assert json.dumps(answered) == json.dumps(expected)


@strawberry.type
class Gadget:
    name: str
    size: int | None

    @strawberry.field
    def broken(self) -> int:
        raise ValueError("the gauge is broken")

    @strawberry.field
    def label(self) -> str:
        return f"{self.name}:{self.size}"


@strawberry.type
class GadgetQuery:
    @strawberry.field
    def gadgets(self) -> list[Gadget | None]:
        # The second breaks a non-null field: graphql-core nulls the whole item and reports where.
        return [Gadget(name="a", size=1), Gadget(name=None, size=None), Gadget(name="c", size=None)]  # type: ignore[arg-type]


async def test_inline_leaves_report_errors_and_nulls_exactly_as_graphql_core_does() -> None:
    query = "{ gadgets { label name size } again: gadgets { size broken } }"
    slow = strawberry.Schema(query=GadgetQuery)
    fast = strawberry.Schema(query=GadgetQuery)
    install_fast_resolvers(fast)
    expected = await slow.execute(query)
    answered = await fast.execute(query)
    assert json.dumps(answered.data) == json.dumps(expected.data)
    assert expected.data is not None
    assert expected.data["gadgets"][1] is None
    assert [(e.message, e.path) for e in answered.errors or []] == [(e.message, e.path) for e in expected.errors or []]
    assert any(e.message == "the gauge is broken" for e in answered.errors or [])
