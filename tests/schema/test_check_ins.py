"""Check-ins, initiatives and comments over HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import ADD_COMMENT, ADD_INITIATIVE, OBJECTIVE, RECORD_CHECK_IN, kinds_seen, ok, refused
from workflow import models
from workflow.enums import CyclePhase, ObjectiveStatus, Role, Rollup, TeamRole, Visibility


async def test_sum_rollup_counts_a_retried_check_in_once(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    objective = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
    kr = await factory.key_result(objective, start=0, target=100, rollup=Rollup.SUM)
    kr_id = to_global_id("KeyResult", kr.id)
    for key, value in (("a", 10), ("b", 15), ("a", 10)):
        check_in = {"keyResultId": kr_id, "value": value, "idempotencyKey": key, "measuredAt": "2026-11-01T10:00:00Z"}
        payload = await ok(api, RECORD_CHECK_IN, {"input": check_in}, member)
    assert payload["keyResult"]["currentValue"] == 25
    assert payload["keyResult"]["checkIns"]["totalCount"] == 2
    assert payload["checkIn"]["author"]["name"] == member.name
    assert (await kinds_seen(api, to_global_id("Objective", objective.id), member)).count("key_result.checked_in") == 2


async def test_check_ins_are_refused_where_they_do_not_belong(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    exec_ = await factory.user(org, Role.EXEC)
    negotiating = await factory.cycle(org, phase=CyclePhase.NEGOTIATING)
    draft = await factory.objective(negotiating, team, status=ObjectiveStatus.DRAFT, author=exec_)
    draft_kr = await factory.key_result(draft)
    value = {"value": 1, "measuredAt": "2026-11-01T10:00:00Z"}
    on_draft = {"keyResultId": to_global_id("KeyResult", draft_kr.id), **value}
    assert await refused(api, RECORD_CHECK_IN, {"input": on_draft}, exec_) == "TRANSITION_NOT_ALLOWED"
    # A key result the member cannot see reads as missing, not as forbidden.
    hidden = await factory.objective(
        await factory.cycle(org, phase=CyclePhase.ACTIVE, name="Other"),
        await factory.team(org, "Elsewhere"),
        status=ObjectiveStatus.ACTIVE,
        visibility=Visibility.TEAM,
    )
    hidden_kr = {"keyResultId": to_global_id("KeyResult", (await factory.key_result(hidden)).id), **value}
    assert await refused(api, RECORD_CHECK_IN, {"input": hidden_kr}, member) == "NOT_FOUND"
    assert await refused(api, RECORD_CHECK_IN, {"input": {**hidden_kr, "keyResultId": "garbage"}}, member) == (
        "NOT_FOUND"
    )
    live = await factory.objective(
        await factory.cycle(org, phase=CyclePhase.ACTIVE, name="Live"), team, status=ObjectiveStatus.ACTIVE
    )
    live_kr = to_global_id("KeyResult", (await factory.key_result(live)).id)
    bad_confidence = {"keyResultId": live_kr, **value, "confidence": 1.5}
    assert await refused(api, RECORD_CHECK_IN, {"input": bad_confidence}, member) == "VALIDATION"


async def test_a_check_in_costs_the_same_however_many_came_before(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    objective = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
    kr = await factory.key_result(objective, start=0, target=1000, rollup=Rollup.AVERAGE)
    query = "mutation($input: CheckInInput!) { recordCheckIn(input: $input) { checkIn { id } userErrors { code } } }"
    counts = []
    for n in range(40):
        if n in (1, 39):
            with count_statements(test_db) as counter:
                await ok(api, query, {"input": {"keyResultId": to_global_id("KeyResult", kr.id), "value": n}}, member)
            counts.append(counter.count)
        else:
            await factory.check_in(kr, cycle, member, float(n))
    assert counts[0] == counts[1], counts


async def test_initiatives_and_comments(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, name="Gil", teams={team: TeamRole.MEMBER})
    viewer = await factory.user(org, Role.VIEWER)
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    objective = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
    kr_id = to_global_id("KeyResult", (await factory.key_result(objective)).id)
    oid = to_global_id("Objective", objective.id)

    experiment = {"keyResultId": kr_id, "kind": "EXPERIMENT", "title": "Shorter form", "url": "https://x.test/1"}
    added = await ok(api, ADD_INITIATIVE, experiment, member)
    initiative = added["initiative"]
    assert (initiative["kind"], initiative["title"], initiative["status"]) == ("EXPERIMENT", "Shorter form", "PLANNED")
    assert await refused(api, ADD_INITIATIVE, {**experiment, "url": "javascript:alert(1)"}, member) == "VALIDATION"
    assert await refused(api, ADD_INITIATIVE, experiment, viewer) == "FORBIDDEN"
    listed = await api(f'{{ node(id: "{kr_id}") {{ ... on KeyResult {{ initiatives {{ title }} }} }} }}', as_=member)
    assert listed["node"]["initiatives"] == [{"title": "Shorter form"}]

    comment = await ok(api, ADD_COMMENT, {"subjectId": oid, "body": "  Looks right.  "}, member)
    assert comment["comment"]["body"] == "Looks right."
    assert await refused(api, ADD_COMMENT, {"subjectId": oid, "body": " "}, member) == "VALIDATION"
    assert await refused(api, ADD_COMMENT, {"subjectId": kr_id, "body": "on a key result"}, member) == "NOT_FOUND"
    assert await refused(api, ADD_COMMENT, {"subjectId": oid, "body": "hi"}, viewer) == "FORBIDDEN"
    node = (await api(OBJECTIVE.replace("tags", "tags comments { body author { name } }"), {"id": oid}, as_=member))[
        "node"
    ]
    assert node["comments"] == [{"body": "Looks right.", "author": {"name": "Gil"}}]


async def test_a_mention_notifies_colleagues_who_may_see_the_objective(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    growth = await factory.team(org, "Growth")
    sales = await factory.team(org, "Sales")
    author = await factory.user(org, name="Ann", teams={growth: TeamRole.MEMBER})
    teammate = await factory.user(org, name="Tom", teams={growth: TeamRole.MEMBER})
    outsider = await factory.user(org, name="Out", teams={sales: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    objective = await factory.objective(cycle, growth, status=ObjectiveStatus.ACTIVE, visibility=Visibility.TEAM)
    oid = to_global_id("Objective", objective.id)
    local = teammate.email.split("@")[0]
    body = f"@{local} and @{outsider.email} please look; mail me at {author.email}"
    await ok(api, ADD_COMMENT, {"subjectId": oid, "body": body}, author)

    query = "{ notifications(first: 10) { edges { node { kind message subject { id } } } } }"
    for_teammate = (await api(query, as_=teammate))["notifications"]["edges"]
    assert [(e["node"]["kind"], e["node"]["subject"]["id"]) for e in for_teammate] == [("mentioned", oid)]
    assert "Ann mentioned you" in for_teammate[0]["node"]["message"]
    # The outsider cannot see a TEAM objective of Growth: being named must not even create a notification.
    assert (await api(query, as_=outsider))["notifications"]["edges"] == []
    stored = await factory.session.scalar(
        select(func.count()).select_from(models.Notification).where(models.Notification.user_id == outsider.id)
    )
    assert stored == 0
    assert (await api(query, as_=author))["notifications"]["edges"] == []


TWO_CHECK_INS = """
mutation($first: CheckInInput!, $second: CheckInInput!) {
  first: recordCheckIn(input: $first) { checkIn { id } userErrors { code } }
  second: recordCheckIn(input: $second) { checkIn { id } userErrors { code } }
}
"""


async def test_each_mutation_of_a_document_stands_or_falls_alone(api: Api, factory: Factory) -> None:
    """The first mutation of a request runs without a savepoint; a refusal, first or later, must
    still undo only its own work."""
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    kr = await factory.key_result(await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE))
    good = {"keyResultId": to_global_id("KeyResult", kr.id), "value": 5, "measuredAt": "2026-11-01T10:00:00Z"}
    bad = {**good, "confidence": 1.5}
    for first, second, stored_by in ((good, bad, "first"), (bad, good, "second")):
        data = await api(TWO_CHECK_INS, {"first": first, "second": second}, as_=member)
        refused_by = "second" if stored_by == "first" else "first"
        assert data[refused_by] == {"checkIn": None, "userErrors": [{"code": "VALIDATION"}]}
        assert data[stored_by]["userErrors"] == []
        assert data[stored_by]["checkIn"]["id"]
    stored = await factory.session.scalar(
        select(func.count()).select_from(models.CheckIn).where(models.CheckIn.key_result_id == kr.id)
    )
    assert stored == 2


async def test_a_check_in_is_a_fixed_number_of_statements(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    """Deterministic, so asserted exactly: who is calling (membership; viewer with teams), the key result
    with its objective and cycle, the check-in, the aggregates, the data version, the event chain's
    head (behind an advisory lock on PostgreSQL), the event, and whether anyone wants a webhook.
    Transaction control (BEGIN, SAVEPOINT, COMMIT) is not counted."""
    org = await factory.organization()
    team = await factory.team(org)
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    kr = await factory.key_result(await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE))
    query = "mutation($input: CheckInInput!) { recordCheckIn(input: $input) { checkIn { id } userErrors { code } } }"
    with count_statements(test_db) as counter:
        await ok(api, query, {"input": {"keyResultId": to_global_id("KeyResult", kr.id), "value": 3}}, member)
    advisory_lock = 1 if test_db.engine.dialect.name == "postgresql" else 0
    assert counter.count == 9 + advisory_lock, counter.statements
