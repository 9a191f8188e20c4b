"""The read side of the contract over HTTP: viewer, teams, cycles, objectives, node."""

from __future__ import annotations

import datetime as dt
import gc

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from schema.ids import to_global_id
from schema.queries import selected_at
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import ObjectiveStatus, Role, TeamRole

OBJECTIVES = """
query($first: Int, $after: String, $filter: ObjectiveFilter) {
  objectives(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title status progress health color level
      ownerTeam { name }
      keyResults { id title currentValue progress checkIns(first: 5) { totalCount edges { node { value } } } }
    } }
  }
}
"""


async def seed_objectives(factory: Factory, count: int):  # type: ignore[no-untyped-def]
    org = await factory.organization()
    root = await factory.team(org, "Company")
    team = await factory.team(org, "Growth", parent=root)
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org)
    for i in range(count):
        objective = await factory.objective(cycle, team, title=f"Objective {i}")
        for _ in range(2):
            kr = await factory.key_result(objective, start=0, target=10)
            for value in (2.0, 4.0):
                await factory.check_in(kr, cycle, exec_, value)
    return org, exec_, cycle, team


async def test_objectives_page_through_with_cursors(api: Api, factory: Factory) -> None:
    _, exec_, _, _ = await seed_objectives(factory, 3)
    first = await api(OBJECTIVES, {"first": 2}, as_=exec_)
    page = first["objectives"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["title"] for e in page["edges"]] == ["Objective 0", "Objective 1"]
    second = await api(OBJECTIVES, {"first": 2, "after": page["pageInfo"]["endCursor"]}, as_=exec_)
    assert [e["node"]["title"] for e in second["objectives"]["edges"]] == ["Objective 2"]
    assert second["objectives"]["pageInfo"]["hasNextPage"] is False
    kr = page["edges"][0]["node"]["keyResults"][0]
    assert kr["currentValue"] == 4.0
    assert kr["progress"] == 0.4
    assert kr["checkIns"]["totalCount"] == 2
    assert [e["node"]["value"] for e in kr["checkIns"]["edges"]] == [2.0, 4.0]
    assert page["edges"][0]["node"]["level"] == "TEAM"


async def test_filters_by_status_team_and_search(api: Api, factory: Factory) -> None:
    org, exec_, cycle, _ = await seed_objectives(factory, 2)
    other = await factory.team(org, "Sales")
    await factory.objective(cycle, other, title="Open Europe", status=ObjectiveStatus.DRAFT, author=exec_)
    by_team = await api(OBJECTIVES, {"filter": {"teamId": to_global_id("Team", other.id)}}, as_=exec_)
    assert [e["node"]["title"] for e in by_team["objectives"]["edges"]] == ["Open Europe"]
    by_status = await api(OBJECTIVES, {"filter": {"status": ["DRAFT"]}}, as_=exec_)
    assert by_status["objectives"]["totalCount"] == 1
    by_search = await api(OBJECTIVES, {"filter": {"search": "europe"}}, as_=exec_)
    assert by_search["objectives"]["totalCount"] == 1


async def test_viewer_teams_cycles_and_node(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    root = await factory.team(org, "Company")
    growth = await factory.team(org, "Growth", parent=root)
    lead = await factory.user(org, Role.MEMBER, name="Grace", teams={growth: TeamRole.LEAD})
    cycle = await factory.cycle(org, starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 12, 31))
    objective = await factory.objective(cycle, growth, title="Onboarding")
    data = await api(
        """query($id: ID!, $team: ID!) {
          viewer { name role teams { name leads { name } } }
          teams { name parent { name } children { name } }
          cycles { name phase kind startsOn endsOn }
          node(id: $id) { id ... on Objective { title cycle { name } ownerTeam { name } } }
          team: node(id: $team) { ... on Team { members(first: 10) { totalCount edges { node { name } } } } }
          missing: node(id: "bm9wZTox") { id }
        }""",
        {"id": to_global_id("Objective", objective.id), "team": to_global_id("Team", growth.id)},
        as_=lead,
    )
    assert data["viewer"] == {
        "name": "Grace",
        "role": "MEMBER",
        "teams": [{"name": "Growth", "leads": [{"name": "Grace"}]}],
    }
    assert {t["name"]: t["parent"] for t in data["teams"]} == {"Company": None, "Growth": {"name": "Company"}}
    assert data["cycles"][0]["startsOn"] == "2026-10-01"
    assert data["node"]["title"] == "Onboarding"
    assert data["team"]["members"]["totalCount"] == 1
    assert data["missing"] is None


async def test_statement_count_does_not_grow_with_the_answer(
    api: Api, factory: Factory, session: AsyncSession, test_db: TransactionalDatabase
) -> None:
    _, exec_, _, _ = await seed_objectives(factory, 50)
    counts = []
    for first in (5, 50):
        with count_statements(test_db) as counter:
            data = await api(OBJECTIVES, {"first": first}, as_=exec_)
        assert len(data["objectives"]["edges"]) == first
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


DASHBOARD_BY_FRAGMENTS = """
query($first: Int) {
  objectives(first: $first) { ...Page }
}
fragment Page on ObjectiveConnection { edges { node { ...Figures ... on Objective { keyResults { ...KR } } } } }
fragment Figures on Objective { id health progress }
fragment KR on KeyResult { id health projectedValue projectedCompletionOn }
"""

DASHBOARD_INLINE = """
query($first: Int) {
  objectives(first: $first) {
    edges { node { id health progress keyResults { id health projectedValue projectedCompletionOn } } }
  }
}
"""


async def test_a_page_loads_what_its_nodes_need_however_the_selection_is_spelled(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    """The list query loads key results and cycles for the whole page before returning it; the fields
    it looks for may sit in fragments. Spelled either way: the same answer, the same statements."""
    _, exec_, _, _ = await seed_objectives(factory, 6)
    answers, counts = [], []
    for query in (DASHBOARD_INLINE, DASHBOARD_BY_FRAGMENTS):
        with count_statements(test_db) as counter:
            answers.append(await api(query, {"first": 5}, as_=exec_))
        counts.append(counter.count)
    assert answers[0] == answers[1]
    assert len(answers[0]["objectives"]["edges"]) == 5
    assert counts[0] == counts[1], counts


def test_selected_fields_are_found_through_fragments() -> None:
    def names(selections: list[SelectedField], path: tuple[str, ...]) -> set[str]:
        return {found.name for found in selected_at(selections, path)}

    def field(name: str, *children: Selection) -> SelectedField:
        return SelectedField(name=name, directives={}, arguments={}, selections=list(children))

    node = field(
        "node",
        field("id"),
        FragmentSpread(name="F", type_condition="Objective", directives={}, selections=[field("health")]),
        InlineFragment(type_condition="Objective", directives={}, selections=[field("keyResults", field("color"))]),
    )
    tree = [field("objectives", field("totalCount"), field("edges", node))]
    assert names(tree, ("objectives", "edges", "node")) == {"id", "health", "keyResults"}
    assert names(tree, ("objectives", "edges", "node", "keyResults")) == {"color"}
    assert names(tree, ("objectives", "nodes")) == set()


async def test_a_request_leaves_its_rows_to_reference_counting(api: Api, factory: Factory) -> None:
    """The dataloaders close over their owner, a cycle only the collector frees; emptied when the
    request ends, its rows and futures go at once instead (a whole-company tree holds 500,000)."""
    _, exec_, _, _ = await seed_objectives(factory, 10)
    # Inside a fragment: answered by graphql-core and its dataloaders, never by a read plan.
    document = (
        "{ ... on Query { objectives(first: 10) { edges { node { id progress keyResults { id progress } } } } } }"
    )
    await api(document, as_=exec_)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        data = await api(document, as_=exec_)
        gc.collect()
        stranded = [o for o in gc.garbage if isinstance(o, models.Objective | models.KeyResult)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(data["objectives"]["edges"]) == 10
    assert stranded == []
