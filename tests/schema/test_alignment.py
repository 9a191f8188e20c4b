"""alignmentTree over HTTP: pre-order, redacted ancestors, team subtrees, coverage, bulk reads."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import CycleKind, ObjectiveStatus, Role, TeamRole, Visibility

TREE = """
query($cycleId: ID!, $rootTeamId: ID) {
  alignmentTree(cycleId: $cycleId, rootTeamId: $rootTeamId) {
    nodes { id parentId depth restricted objective { id title } }
    coverage { teamObjectives aligned orphans maxDepth }
  }
}
"""

NODE_TITLE = """query($id: ID!) { node(id: $id) { ... on Objective { title } } }"""

TREE_WITH_FIGURES = """
query($cycleId: ID!) {
  alignmentTree(cycleId: $cycleId) {
    nodes { id depth restricted objective {
      title progress alignedProgress health color level
      cycle { name } ownerTeam { name } parent { id } children { id }
      keyResults { title currentValue progress projectedValue projectedCompletionOn nextCheckInDue health }
    } }
    coverage { teamObjectives aligned orphans maxDepth }
  }
}
"""


def gid(row: models.Objective) -> str:
    return to_global_id("Objective", row.id)


@dataclass
class Org:
    exec_: models.User
    member: models.User
    year: models.Cycle
    quarter: models.Cycle
    growth: models.Team
    objectives: dict[str, models.Objective]


async def seed(factory: Factory) -> Org:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    product = await factory.team(org, "Product", parent=company)
    growth = await factory.team(org, "Growth", parent=product)
    sales = await factory.team(org, "Sales", parent=company)
    exec_ = await factory.user(org, Role.EXEC)
    member = await factory.user(org, Role.MEMBER)
    year = await factory.cycle(org, kind=CycleKind.YEAR, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31))
    quarter = await factory.cycle(org, parent=year)
    other_quarter = await factory.cycle(org, starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 9, 30))
    o: dict[str, models.Objective] = {}
    o["year"] = await factory.objective(year, company, title="Win the mid-market")
    o["company"] = await factory.objective(quarter, company, title="Be the default choice", parent=o["year"])
    o["product"] = await factory.objective(quarter, product, title="Product people love", parent=o["company"])
    o["secret"] = await factory.objective(
        quarter, growth, title="Secret growth bet", parent=o["product"], visibility=Visibility.PRIVATE
    )
    o["growth"] = await factory.objective(quarter, growth, title="Double activation", parent=o["secret"])
    o["sales"] = await factory.objective(quarter, sales, title="Open Europe")
    o["elsewhere"] = await factory.objective(other_quarter, sales, title="Another quarter")
    return Org(exec_, member, year, quarter, growth, o)


def shape(tree: dict[str, Any], org: Org) -> list[tuple[str, str | None, int, bool]]:
    names = {gid(row): name for name, row in org.objectives.items()}
    return [
        (names[n["id"]], names.get(n["parentId"]) if n["parentId"] else None, n["depth"], n["restricted"])
        for n in tree["nodes"]
    ]


async def test_exec_sees_the_whole_tree_in_pre_order_with_coverage(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    data = await api(TREE, {"cycleId": to_global_id("Cycle", org.quarter.id)}, as_=org.exec_)
    tree = data["alignmentTree"]
    assert shape(tree, org) == [
        ("year", None, 0, False),
        ("company", "year", 1, False),
        ("product", "company", 2, False),
        ("secret", "product", 3, False),
        ("growth", "secret", 4, False),
        ("sales", None, 0, False),
    ]
    assert tree["nodes"][3]["objective"]["title"] == "Secret growth bet"
    # Below company level in the quarter: product, secret, growth, sales; sales is the orphan.
    assert tree["coverage"] == {"teamObjectives": 4, "aligned": 3, "orphans": 1, "maxDepth": 4}


async def test_hidden_ancestor_is_a_redacted_placeholder(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    response = await api.post(TREE, {"cycleId": to_global_id("Cycle", org.quarter.id)}, as_=org.member)
    assert "Secret growth bet" not in response.text
    tree = response.json()["data"]["alignmentTree"]
    assert shape(tree, org) == [
        ("year", None, 0, False),
        ("company", "year", 1, False),
        ("product", "company", 2, False),
        ("secret", "product", 3, True),
        ("growth", "secret", 4, False),
        ("sales", None, 0, False),
    ]
    placeholder = tree["nodes"][3]
    assert placeholder == {
        "id": gid(org.objectives["secret"]),
        "parentId": gid(org.objectives["product"]),
        "depth": 3,
        "restricted": True,
        "objective": None,
    }
    assert tree["coverage"] == {"teamObjectives": 3, "aligned": 2, "orphans": 1, "maxDepth": 4}


async def test_root_team_keeps_its_subtree_without_hinting_at_hidden_tops(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    variables = {"cycleId": to_global_id("Cycle", org.quarter.id), "rootTeamId": to_global_id("Team", org.growth.id)}
    as_exec = await api(TREE, variables, as_=org.exec_)
    assert shape(as_exec["alignmentTree"], org) == [("secret", None, 0, False), ("growth", "secret", 1, False)]
    as_member = await api(TREE, variables, as_=org.member)
    assert shape(as_member["alignmentTree"], org) == [("growth", None, 0, False)]
    assert as_member["alignmentTree"]["coverage"] == {"teamObjectives": 1, "aligned": 1, "orphans": 0, "maxDepth": 0}


async def test_year_tree_takes_in_the_aligned_objectives_of_its_quarters(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    data = await api(TREE, {"cycleId": to_global_id("Cycle", org.year.id)}, as_=org.exec_)
    # The quarter's unaligned "sales" objective belongs to the quarter's tree only.
    assert [name for name, *_ in shape(data["alignmentTree"], org)] == [
        "year",
        "company",
        "product",
        "secret",
        "growth",
    ]
    assert data["alignmentTree"]["coverage"]["teamObjectives"] == 0


async def test_viewer_role_sees_only_live_organization_objectives(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    viewer = await factory.user(await _org_of(factory, org), Role.VIEWER)
    org.objectives["product"].status = ObjectiveStatus.DRAFT
    await factory.session.flush()
    response = await api.post(TREE, {"cycleId": to_global_id("Cycle", org.quarter.id)}, as_=viewer)
    tree = response.json()["data"]["alignmentTree"]
    assert [(n, r) for n, _, _, r in shape(tree, org)] == [
        ("year", False),
        ("company", False),
        ("product", True),
        ("secret", True),
        ("growth", False),
        ("sales", False),
    ]
    assert "Product people love" not in response.text


async def _org_of(factory: Factory, org: Org) -> models.Organization:
    found = await factory.session.get(models.Organization, org.quarter.organization_id)
    assert found is not None
    return found


async def test_unknown_or_foreign_cycle_gives_an_empty_tree(api: Api, factory: Factory) -> None:
    org = await seed(factory)
    elsewhere = await factory.organization()
    foreign = await factory.cycle(elsewhere)
    data = await api(TREE, {"cycleId": to_global_id("Cycle", foreign.id)}, as_=org.exec_)
    assert data["alignmentTree"]["nodes"] == []
    response = await api.post(TREE, {"cycleId": "not-an-id"}, as_=org.exec_)
    assert response.status_code == 200
    assert response.json()["errors"]


async def bulk_tree(session: AsyncSession, factory: Factory, count: int) -> tuple[models.User, models.Cycle]:
    """`count` objectives three levels deep with a key result and two check-ins each, inserted in bulk."""
    org = await factory.organization()
    company = await factory.team(org, "Company")
    team = await factory.team(org, "Team", parent=company)
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org)
    roots = max(1, count // 10)
    parents: list[models.Objective | None] = [None]
    made = 0
    for level, size in enumerate((roots, (count - roots) // 2, count - roots - (count - roots) // 2)):
        rows = [
            models.Objective(
                organization_id=org.id,
                cycle_id=cycle.id,
                title=f"L{level} #{i}",
                owner_team_id=company.id if level == 0 else team.id,
                status=ObjectiveStatus.ACTIVE,
                visibility=Visibility.ORGANIZATION if i % 7 else Visibility.PRIVATE,
                parent_id=None if parents[i % len(parents)] is None else parents[i % len(parents)].id,  # type: ignore[union-attr]
            )
            for i in range(size)
        ]
        session.add_all(rows)
        await session.flush()
        krs = [
            models.KeyResult(
                organization_id=org.id,
                objective_id=row.id,
                title="Grow",
                start_value=0,
                target_value=100,
                checkin_count=2,
                value_sum=60,
                value_min=20,
                value_max=40,
                last_value=40,
                last_measured_at=dt.datetime(2026, 10, 21, tzinfo=dt.UTC),
                fit_count=2,
                fit_sum_t=30,
                fit_sum_tt=500,
                fit_sum_v=60,
                fit_sum_tv=1000,
            )
            for row in rows
        ]
        session.add_all(krs)
        await session.flush()
        parents = list(rows)
        made += size
    assert made == count
    return exec_, cycle


async def test_tree_statements_do_not_grow_with_its_size(
    api: Api, factory: Factory, session: AsyncSession, test_db: TransactionalDatabase
) -> None:
    counts = []
    bodies = []
    for count in (10, 1000):
        exec_, cycle = await bulk_tree(session, factory, count)
        member = await factory.user(await session.get_one(models.Organization, cycle.organization_id), Role.MEMBER)
        for who in (exec_, member):
            with count_statements(test_db) as counter:
                response = await api.post(TREE_WITH_FIGURES, {"cycleId": to_global_id("Cycle", cycle.id)}, as_=who)
            body = response.json()
            assert "errors" not in body, json.dumps(body)[:2000]
            counts.append(counter.count)
            bodies.append(body["data"]["alignmentTree"]["nodes"])
    assert counts[0] == counts[2], counts
    assert counts[1] == counts[3], counts
    # The figures, key results, parents and children on the nodes came from the primed loaders.
    with count_statements(test_db) as bare:
        await api(TREE, {"cycleId": to_global_id("Cycle", cycle.id)}, as_=exec_)
    assert counts[2] == bare.count, (counts, bare.statements)
    assert len(bodies[0]) == 10
    assert len(bodies[2]) == 1000
    # The member cannot see every seventh objective: those with aligned children appear redacted,
    # the rest not at all.
    member_nodes = bodies[3]
    restricted = [i for i, n in enumerate(member_nodes) if n["restricted"]]
    assert restricted
    assert all(member_nodes[i]["objective"] is None for i in restricted)
    assert all(member_nodes[i + 1]["depth"] == member_nodes[i]["depth"] + 1 for i in restricted)
    # Levels of 100, 450 and 450 objectives hide indexes 0, 7, 14...: 15 + 65 + 65 of them.
    assert sum(1 for n in member_nodes if not n["restricted"]) == 1000 - 145


@st.composite
def org_charts(draw: st.DrawFn) -> list[tuple[int | None, str, str]]:
    """(parent index, visibility, status) per objective; parents come earlier, as services ensure."""
    size = draw(st.integers(min_value=1, max_value=12))
    return [
        (
            draw(st.one_of(st.none(), st.integers(min_value=0, max_value=i - 1))) if i else None,
            draw(st.sampled_from([Visibility.ORGANIZATION, Visibility.PRIVATE, Visibility.TEAM])),
            draw(st.sampled_from([ObjectiveStatus.ACTIVE, ObjectiveStatus.DRAFT, ObjectiveStatus.COMPLETED])),
        )
        for i in range(size)
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chart=org_charts(), root_team=st.booleans())
async def test_any_tree_is_a_valid_pre_order_without_hidden_titles(
    api: Api, factory: Factory, chart: list[tuple[int | None, str, str]], root_team: bool
) -> None:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    teams = [company, await factory.team(org, "A", parent=company), await factory.team(org, "B", parent=company)]
    member = await factory.user(org, Role.MEMBER, teams={teams[1]: TeamRole.MEMBER})
    cycle = await factory.cycle(org)
    rows: list[models.Objective] = []
    for i, (parent, visibility, status) in enumerate(chart):
        rows.append(
            await factory.objective(
                cycle,
                teams[i % 3],
                title=f"Secret #{i}." if visibility != Visibility.ORGANIZATION else f"Open #{i}.",
                visibility=Visibility(visibility),
                status=ObjectiveStatus(status),
                parent=None if parent is None else rows[parent],
            )
        )
    variables = {"cycleId": to_global_id("Cycle", cycle.id)}
    if root_team:
        variables["rootTeamId"] = to_global_id("Team", teams[1].id)
    response = await api.post(TREE, variables, as_=member)
    nodes = response.json()["data"]["alignmentTree"]["nodes"]
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)), "a node appears twice"
    depth_of: dict[str, int] = {}
    for n in nodes:
        if n["parentId"] is None:
            assert n["depth"] == 0
        else:
            assert n["parentId"] in depth_of, "a child before its parent"
            assert n["depth"] == depth_of[n["parentId"]] + 1
        depth_of[n["id"]] = n["depth"]
        assert (n["objective"] is None) == n["restricted"]
    # What the member cannot open never shows its title; the whole cycle's tree shows all the rest.
    shown = {n["objective"]["title"] for n in nodes if n["objective"]}
    for row in rows:
        opened = (await api(NODE_TITLE, {"id": gid(row)}, as_=member))["node"]
        if opened is None:
            assert row.title not in response.text
        elif not root_team:
            assert row.title in shown
