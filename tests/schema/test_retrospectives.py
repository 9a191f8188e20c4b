"""retrospectives(cycleId) over HTTP: per-team scores, misses, calibration, and who may read them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import Commitment, CyclePhase, ObjectiveStatus, Role, TeamRole

RETROSPECTIVES = """
query($cycleId: ID!) {
  retrospectives(cycleId: $cycleId) {
    team { name } cycle { name } averageScore committedMissed calibration published
  }
}
"""

REFLECTION = """
query($id: ID!) { node(id: $id) { ... on Objective { score reflection retrospectivePublished
  keyResults { score reflection } } } }
"""


@dataclass
class Quarter:
    org: models.Organization
    exec_: models.User
    growth_member: models.User
    sales_member: models.User
    outsider: models.User
    growth: models.Team
    sales: models.Team
    current: models.Cycle
    growth_committed: models.Objective


async def scored(
    factory: Factory, cycle: models.Cycle, team: models.Team, progress: float, **fields: object
) -> models.Objective:
    fields.setdefault("status", ObjectiveStatus.COMPLETED)
    objective = await factory.objective(cycle, team, **fields)  # type: ignore[arg-type]
    kr = await factory.key_result(objective, start=0, target=100)
    author = await factory.user(await factory.session.get_one(models.Organization, cycle.organization_id), Role.EXEC)
    await factory.check_in(kr, cycle, author, progress * 100)
    return objective


async def seed(factory: Factory) -> Quarter:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    growth = await factory.team(org, "Growth", parent=company)
    sales = await factory.team(org, "Sales", parent=company)
    exec_ = await factory.user(org, Role.EXEC)
    growth_member = await factory.user(org, teams={growth: TeamRole.MEMBER})
    sales_member = await factory.user(org, teams={sales: TeamRole.LEAD})
    outsider = await factory.user(org)
    quarters = []
    for month in (4, 7, 10):
        start = dt.date(2026, month, 1)
        quarters.append(
            await factory.cycle(
                org,
                phase=CyclePhase.REVIEWING,
                starts_on=start,
                ends_on=start + dt.timedelta(days=90),
                name=f"2026-{month:02}",
            )
        )
    # Growth reaches >= 0.9 on aspirational objectives quarter after quarter: sandbagging.
    await scored(factory, quarters[0], growth, 0.5)
    await scored(factory, quarters[1], growth, 0.95)
    await scored(factory, quarters[2], growth, 0.9)
    committed = await scored(factory, quarters[2], growth, 0.2, commitment=Commitment.COMMITTED, score=0.8)
    # Sales stays below 0.4 twice in a row: too hard.
    await scored(factory, quarters[1], sales, 0.3)
    await scored(factory, quarters[2], sales, 0.1)
    await scored(factory, quarters[2], sales, 0.2, status=ObjectiveStatus.CANCELLED)
    factory.session.add(
        models.Retrospective(organization_id=org.id, cycle_id=quarters[2].id, team_id=growth.id, published=True)
    )
    factory.session.add(
        models.Retrospective(organization_id=org.id, cycle_id=quarters[2].id, team_id=sales.id, published=False)
    )
    await factory.session.flush()
    return Quarter(org, exec_, growth_member, sales_member, outsider, growth, sales, quarters[2], committed)


async def test_exec_reads_every_team_with_scores_and_calibration(api: Api, factory: Factory) -> None:
    q = await seed(factory)
    data = await api(RETROSPECTIVES, {"cycleId": to_global_id("Cycle", q.current.id)}, as_=q.exec_)
    assert data["retrospectives"] == [
        {
            "team": {"name": "Growth"},
            "cycle": {"name": "2026-10"},
            # (0.9 + the committed objective's recorded 0.8) / 2
            "averageScore": 0.85,
            "committedMissed": 1,
            "calibration": "sandbagging",
            "published": True,
        },
        {
            "team": {"name": "Sales"},
            "cycle": {"name": "2026-10"},
            "averageScore": 0.1,  # the cancelled objective does not count
            "committedMissed": 0,
            "calibration": "too hard",
            "published": False,
        },
    ]


async def test_unpublished_retrospectives_stay_with_the_team(api: Api, factory: Factory) -> None:
    q = await seed(factory)
    variables = {"cycleId": to_global_id("Cycle", q.current.id)}
    names = {
        who: [r["team"]["name"] for r in (await api(RETROSPECTIVES, variables, as_=user))["retrospectives"]]
        for who, user in (("sales", q.sales_member), ("growth", q.growth_member), ("outsider", q.outsider))
    }
    assert names == {"sales": ["Growth", "Sales"], "growth": ["Growth"], "outsider": ["Growth"]}


async def test_calibration_of_an_earlier_quarter_looks_only_backwards(api: Api, factory: Factory) -> None:
    q = await seed(factory)
    earlier = (
        await factory.session.execute(
            models.Cycle.__table__.select().where(  # type: ignore[attr-defined]
                models.Cycle.organization_id == q.org.id, models.Cycle.name == "2026-07"
            )
        )
    ).one()
    data = await api(RETROSPECTIVES, {"cycleId": to_global_id("Cycle", earlier.id)}, as_=q.exec_)
    # 0.95 in July after 0.5 in April: no streak yet; Sales has only one quarter.
    assert [(r["team"]["name"], r["calibration"], r["published"]) for r in data["retrospectives"]] == [
        ("Growth", "calibrated", False),
        ("Sales", "calibrated", False),
    ]


async def test_reflections_are_hidden_from_others_until_published(api: Api, factory: Factory) -> None:
    q = await seed(factory)
    hidden = await factory.objective(q.current, q.sales, score=0.3, reflection="We aimed too high")
    kr = await factory.key_result(hidden, score=0.3, reflection="Pipeline dried up")
    variables = {"id": to_global_id("Objective", hidden.id)}
    outsider = (await api(REFLECTION, variables, as_=q.outsider))["node"]
    assert outsider == {
        "score": None,
        "reflection": None,
        "retrospectivePublished": False,
        "keyResults": [{"score": None, "reflection": None}],
    }
    own_team = (await api(REFLECTION, variables, as_=q.sales_member))["node"]
    assert own_team["reflection"] == "We aimed too high"
    assert own_team["keyResults"] == [{"score": 0.3, "reflection": "Pipeline dried up"}]
    assert (await api(REFLECTION, variables, as_=q.exec_))["node"]["score"] == 0.3
    retro = await factory.session.execute(
        models.Retrospective.__table__.update()  # type: ignore[attr-defined]
        .where(models.Retrospective.team_id == q.sales.id)
        .values(published=True)
    )
    assert retro.rowcount == 1
    published = (await api(REFLECTION, variables, as_=q.outsider))["node"]
    assert published["reflection"] == "We aimed too high"
    assert published["retrospectivePublished"] is True
    assert kr.id


async def test_statements_do_not_grow_with_the_number_of_teams(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    q = await seed(factory)
    counts = []
    for _ in range(2):
        with count_statements(test_db) as counter:
            await api(RETROSPECTIVES, {"cycleId": to_global_id("Cycle", q.current.id)}, as_=q.exec_)
        counts.append(counter.count)
        for i in range(5):
            team = await factory.team(q.org, f"More {i}")
            await scored(factory, q.current, team, 0.5)
    assert counts[0] == counts[1], counts
