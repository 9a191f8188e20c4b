"""Read plans answer exactly as graphql-core does, in fewer statements, and only where they know how.

Every planned document is compared with its control: the same selection inside an inline fragment on
Query, which no plan accepts, so graphql-core resolves it field by field.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from schema.ids import to_global_id
from schema.pagination import encode_cursor
from schema.read_plans import compile_plan
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import ObjectiveStatus, Role, Rollup, TeamRole, Visibility

ALL_FIELDS = """
  total: totalCount
  __typename
  edges {
    __typename
    node {
      __typename id version title description motivation commitment visibility status weight
      results: keyResults {
        __typename id version title metricName unit startValue liftValue direction calculationType
        trackingFrequency rollup counterMetric weight currentValue
      }
    }
  }
"""


def planned(body: str, variables: str = "($filter: ObjectiveFilter, $first: Int, $after: String)") -> str:
    return f"query Page{variables} {{ {body} }}"


def control(body: str, variables: str = "($filter: ObjectiveFilter, $first: Int, $after: String)") -> str:
    return f"query Page{variables} {{ ... on Query {{ {body} }} }}"


PAGE = f"objectives(filter: $filter, first: $first, after: $after) {{ {ALL_FIELDS} }}"


@pytest.fixture
def postgres_only(test_db: TransactionalDatabase) -> None:
    if not test_db.url.startswith("postgresql"):
        pytest.skip("read plans build JSON in PostgreSQL; on SQLite every document runs through graphql-core")


async def seed(factory: Factory) -> dict[str, Any]:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    growth = await factory.team(org, "Growth", parent=company)
    lifecycle = await factory.team(org, "Lifecycle", parent=growth)
    people = await factory.team(org, "People", parent=company)
    exec_ = await factory.user(org, Role.EXEC)
    grower = await factory.user(org, Role.MEMBER, teams={growth: TeamRole.MEMBER})
    outsider = await factory.user(org, Role.MEMBER, teams={people: TeamRole.MEMBER})
    cycle = await factory.cycle(org)
    rollups = list(Rollup)
    for index, (team, visibility, status, tags) in enumerate(
        [
            (company, Visibility.ORGANIZATION, ObjectiveStatus.ACTIVE, ["north-star"]),
            (growth, Visibility.ORGANIZATION, ObjectiveStatus.ACTIVE, ["growth"]),
            (growth, Visibility.TEAM, ObjectiveStatus.DRAFT, []),
            (lifecycle, Visibility.ORGANIZATION, ObjectiveStatus.ACTIVE, ["growth"]),
            (lifecycle, Visibility.TEAM, ObjectiveStatus.ACTIVE, []),
            (people, Visibility.TEAM, ObjectiveStatus.ACTIVE, []),
            (people, Visibility.ORGANIZATION, ObjectiveStatus.IN_REVIEW, []),
        ]
    ):
        objective = await factory.objective(
            cycle,
            team,
            title=f"Objective {index} 'quoted' \"and\" ünïcode",
            visibility=visibility,
            status=status,
            tags=tags,
        )
        for position, rollup in enumerate(rollups[index % len(rollups) :] + rollups[: index % len(rollups)]):
            kr = await factory.key_result(
                objective, start=1.5, target=10 + index, rollup=rollup, position=len(rollups) - position
            )
            for value in [0.1, 7.25, 3.0][: (index + position) % 4]:
                await factory.check_in(kr, cycle, exec_, value)
        await factory.key_result(objective, title="Dropped", removed=True)
    return {
        "org": org,
        "cycle": cycle,
        "teams": {"company": company, "growth": growth, "people": people},
        "users": {"exec": exec_, "grower": grower, "outsider": outsider},
    }


async def both_ways(api: Api, body: str, variables: dict[str, Any], user: models.User) -> tuple[Any, Any]:
    ours = (await api.post(planned(body), variables, as_=user)).json()
    theirs = (await api.post(control(body), variables, as_=user)).json()
    return ours, theirs


def filters(world: dict[str, Any]) -> list[dict[str, Any]]:
    cycle_id = to_global_id("Cycle", world["cycle"].id)
    return [
        {},
        {"filter": {"cycleId": cycle_id}},
        {"filter": {"teamId": to_global_id("Team", world["teams"]["growth"].id)}},
        {"filter": {"teamId": to_global_id("Team", world["teams"]["company"].id), "cycleId": cycle_id}},
        {"filter": {"status": ["ACTIVE", "IN_REVIEW"]}},
        {"filter": {"tag": "growth"}},
        {"filter": {"search": "quoted"}},
        {"first": 2},
        {"first": 2, "after": encode_cursor(1)},
        {"first": 0},
        {"filter": {"teamId": to_global_id("Team", 999_999)}},
    ]


async def test_planned_pages_answer_as_graphql_core_does(api: Api, factory: Factory, postgres_only: None) -> None:
    world = await seed(factory)
    for user in world["users"].values():
        for variables in filters(world):
            ours, theirs = await both_ways(api, PAGE, variables, user)
            assert "errors" not in ours, ours
            assert ours == theirs, (user.email, variables)
    # The comparison compared something: every kind of row is on some page.
    ours, _ = await both_ways(api, PAGE, {}, world["users"]["exec"])
    nodes = [edge["node"] for edge in ours["data"]["objectives"]["edges"]]
    assert len(nodes) == 7
    values = [kr["currentValue"] for node in nodes for kr in node["results"]]
    # No check-in yet, one, and several folded by every rollup.
    assert None in values
    assert 0.1 in values
    assert len(set(values)) >= 6, values
    assert all(kr["title"] != "Dropped" for node in nodes for kr in node["results"])


async def test_visibility_holds_on_the_planned_path(api: Api, factory: Factory, postgres_only: None) -> None:
    world = await seed(factory)

    async def titles(user: models.User) -> set[str]:
        data = (await api.post(planned(PAGE), {}, as_=user)).json()["data"]
        return {edge["node"]["title"].split(" '")[0] for edge in data["objectives"]["edges"]}

    # TEAM objectives: Growth's (2) and Lifecycle's (4) below it, People's (5).
    outsider = await titles(world["users"]["outsider"])
    assert "Objective 5" in outsider
    assert not {"Objective 2", "Objective 4"} & outsider
    grower = await titles(world["users"]["grower"])
    assert "Objective 4" in grower  # a sub-team's, seen from the team above
    assert "Objective 5" not in grower


async def test_bad_arguments_get_graphql_cores_own_errors(api: Api, factory: Factory, postgres_only: None) -> None:
    world = await seed(factory)
    for variables in (
        {"first": 1000},
        {"first": -1},
        {"filter": {"teamId": "not-an-id"}},
        {"filter": {"cycleId": to_global_id("Team", 1)}},
        {"first": "ten"},
    ):
        ours, theirs = await both_ways(api, PAGE, variables, world["users"]["exec"])
        assert ours.get("data") == theirs.get("data")
        assert [(e["message"], e.get("extensions")) for e in ours["errors"]] == [
            (e["message"], e.get("extensions")) for e in theirs["errors"]
        ]


async def test_a_planned_page_is_one_statement_whatever_its_size(
    api: Api, factory: Factory, test_db: TransactionalDatabase, postgres_only: None
) -> None:
    world = await seed(factory)
    team = {"filter": {"teamId": to_global_id("Team", world["teams"]["company"].id)}}
    counts = {}
    for name, document in (("planned", planned(PAGE)), ("control", control(PAGE))):
        for first in (1, 7):
            with count_statements(test_db) as counter:
                response = await api.post(document, {**team, "first": first}, as_=world["users"]["exec"])
            assert len(response.json()["data"]["objectives"]["edges"]) == first
            counts[name, first] = counter.count
    # The IdP token's user and their viewer, then the page (team subtree, objectives, key results) as JSON.
    assert counts["planned", 1] == counts["planned", 7] == 3
    assert counts["control", 7] > counts["planned", 7]


@pytest.mark.parametrize(
    "document",
    [
        "{ objectives { edges { node { id } } } pageInfo: objectives { totalCount } }",
        "{ objectives { pageInfo { hasNextPage } } }",
        "{ objectives { edges { cursor node { id } } } }",
        "{ objectives { edges { node { id progress } } } }",
        "{ objectives { edges { node { ... on Objective { id } } } } }",
        "{ objectives { edges { node { id @include(if: true) } } } }",
        "{ objectives { edges { node { id id: title } } } }",
        "{ objectives { edges { node { keyResults { id checkIns(first: 1) { totalCount } } } } } }",
        "query @skip(if: false) { objectives { totalCount } }",
        "{ viewer { id } }",
        'mutation { revokeAccessToken(id: "x") { revoked } }',
    ],
)
def test_documents_a_plan_does_not_know_go_to_graphql_core(document: str) -> None:
    assert compile_plan(parse(document), None) is None


def test_a_document_of_known_fields_compiles_to_a_plan() -> None:
    assert compile_plan(parse(planned(PAGE)), "Page") is not None
    assert compile_plan(parse("{ mine: objectives(first: 3) { totalCount } }"), None) is not None
