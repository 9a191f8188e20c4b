"""Drafting objectives and key results over HTTP: who may, what is validated, optimistic locking."""

from __future__ import annotations

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import (
    ADD_KEY_RESULT,
    CREATE_OBJECTIVE,
    OBJECTIVE,
    REMOVE_KEY_RESULT,
    TRANSITION_OBJECTIVE,
    UPDATE_KEY_RESULT,
    UPDATE_OBJECTIVE,
    key_result_input,
    ok,
    refused,
)
from workflow.enums import CyclePhase, ObjectiveStatus, Role, TeamRole

TAGS = """
query($id: ID!) { node(id: $id) { ... on Objective { tags } } }
"""


async def test_who_drafts_for_whom(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org, "Growth")
    other = await factory.team(org, "Sales")
    exec_ = await factory.user(org, Role.EXEC)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    viewer = await factory.user(org, Role.VIEWER)
    cycle = await factory.cycle(org, phase=CyclePhase.PLANNING)
    base = {"cycleId": to_global_id("Cycle", cycle.id), "title": "Win"}
    for_team = {**base, "ownerTeamId": to_global_id("Team", team.id)}
    for_other = {**base, "ownerTeamId": to_global_id("Team", other.id)}
    assert await refused(api, CREATE_OBJECTIVE, {"input": for_team}, member) == "FORBIDDEN"
    assert await refused(api, CREATE_OBJECTIVE, {"input": for_other}, lead) == "FORBIDDEN"
    assert await refused(api, CREATE_OBJECTIVE, {"input": for_team}, viewer) == "FORBIDDEN"
    assert await refused(api, CREATE_OBJECTIVE, {"input": base}, lead) == "VALIDATION"  # no owner
    assert await refused(api, CREATE_OBJECTIVE, {"input": {**for_team, "title": "  "}}, lead) == "VALIDATION"
    mine = {**base, "ownerUserId": to_global_id("User", member.id)}
    assert (await ok(api, CREATE_OBJECTIVE, {"input": mine}, member))["objective"]["status"] == "DRAFT"
    assert (await ok(api, CREATE_OBJECTIVE, {"input": for_team}, lead))["objective"]["status"] == "DRAFT"
    assert (await ok(api, CREATE_OBJECTIVE, {"input": for_other}, exec_))["objective"]["status"] == "DRAFT"

    active = await factory.cycle(org, phase=CyclePhase.ACTIVE, name="Running")
    late = {**for_team, "cycleId": to_global_id("Cycle", active.id)}
    assert await refused(api, CREATE_OBJECTIVE, {"input": late}, exec_) == "VALIDATION"


async def test_key_results_inline_with_lift_targets_and_tags(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    cycle = await factory.cycle(org, phase=CyclePhase.NEGOTIATING)
    draft = {
        "cycleId": to_global_id("Cycle", cycle.id),
        "title": "Grow",
        "ownerTeamId": to_global_id("Team", team.id),
        "tags": ["growth", " growth ", "q4"],
        "keyResults": [
            key_result_input("Revenue", start=200, target=None, calculationType="PERCENTAGE_LIFT", liftValue=10),
            key_result_input(
                "Churn", start=5, target=None, calculationType="ABSOLUTE_LIFT", liftValue=2, direction="DECREASE"
            ),
        ],
    }
    created = (await ok(api, CREATE_OBJECTIVE, {"input": draft}, lead))["objective"]
    assert [kr["targetValue"] for kr in created["keyResults"]] == [220, 3]
    tags = (await api(TAGS, {"id": created["id"]}, as_=lead))["node"]["tags"]
    assert tags == ["growth", "q4"]
    by_tag = await api('query { objectives(filter: {tag: "q4"}) { totalCount } }', as_=lead)
    assert by_tag["objectives"]["totalCount"] == 1
    missing_lift = {**draft, "keyResults": [{**draft["keyResults"][0], "liftValue": None}]}  # type: ignore[index]
    assert await refused(api, CREATE_OBJECTIVE, {"input": missing_lift}, lead) == "VALIDATION"


async def test_a_stale_version_overwrites_nothing(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    exec_ = await factory.user(org, Role.EXEC)
    cycle = await factory.cycle(org, phase=CyclePhase.NEGOTIATING)
    objective = await factory.objective(cycle, team, title="First", status=ObjectiveStatus.DRAFT, author=exec_)
    kr = await factory.key_result(objective, title="KR")
    oid, kr_id = to_global_id("Objective", objective.id), to_global_id("KeyResult", kr.id)

    # Both read version 1; the exec saves first, so the lead's edit is refused.
    await ok(api, UPDATE_OBJECTIVE, {"id": oid, "version": 1, "patch": {"title": "Exec's"}}, exec_)
    assert await refused(api, UPDATE_OBJECTIVE, {"id": oid, "version": 1, "patch": {"title": "Lead's"}}, lead) == (
        "VERSION_CONFLICT"
    )
    await ok(api, UPDATE_KEY_RESULT, {"id": kr_id, "version": 1, "patch": {"targetValue": 50}}, exec_)
    stale_kr = {"id": kr_id, "version": 1, "patch": {"targetValue": 70}}
    assert await refused(api, UPDATE_KEY_RESULT, stale_kr, lead) == "VERSION_CONFLICT"
    node = (await api(OBJECTIVE, {"id": oid}, as_=lead))["node"]
    assert (node["title"], node["version"]) == ("Exec's", 2)
    assert (node["keyResults"][0]["targetValue"], node["keyResults"][0]["version"]) == (50, 2)


async def test_adding_and_removing_key_results_of_drafts_only(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    team = await factory.team(org)
    lead = await factory.user(org, teams={team: TeamRole.LEAD})
    member = await factory.user(org, teams={team: TeamRole.MEMBER})
    cycle = await factory.cycle(org, phase=CyclePhase.NEGOTIATING)
    objective = await factory.objective(cycle, team, status=ObjectiveStatus.DRAFT, author=lead)
    oid = to_global_id("Objective", objective.id)
    added = (await ok(api, ADD_KEY_RESULT, {"objectiveId": oid, "input": key_result_input("New")}, lead))["keyResult"]
    removed = (await ok(api, REMOVE_KEY_RESULT, {"id": added["id"]}, lead))["objective"]
    assert removed["keyResults"] == []
    assert await refused(api, REMOVE_KEY_RESULT, {"id": added["id"]}, lead) == "NOT_FOUND"  # gone from every read
    # Drafts are invisible to plain members, so their edits read as a missing objective.
    assert await refused(api, ADD_KEY_RESULT, {"objectiveId": oid, "input": key_result_input("X")}, member) == (
        "NOT_FOUND"
    )
    assert await refused(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "SUBMIT"}, lead) == "VALIDATION"  # no KR

    live = await factory.objective(cycle, team, status=ObjectiveStatus.ACTIVE)
    live_kr = to_global_id("KeyResult", (await factory.key_result(live)).id)
    live_id = to_global_id("Objective", live.id)
    assert await refused(api, ADD_KEY_RESULT, {"objectiveId": live_id, "input": key_result_input("X")}, lead) == (
        "EDIT_THROUGH_PROPOSAL"
    )
    assert await refused(api, REMOVE_KEY_RESULT, {"id": live_kr}, lead) == "EDIT_THROUGH_PROPOSAL"
    edit_live = {"id": live_kr, "version": 1, "patch": {"title": "Y"}}
    assert await refused(api, UPDATE_KEY_RESULT, edit_live, lead) == "EDIT_THROUGH_PROPOSAL"


async def test_available_transitions_follow_the_viewer(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    admin = await factory.user(org, Role.ADMIN)
    exec_ = await factory.user(org, Role.EXEC)
    member = await factory.user(org)
    closed = await factory.cycle(org, phase=CyclePhase.CLOSED)
    query = "query($id: ID!) { node(id: $id) { ... on Cycle { availableTransitions } } }"
    variables = {"id": to_global_id("Cycle", closed.id)}
    seen = [(await api(query, variables, as_=u))["node"]["availableTransitions"] for u in (admin, exec_, member)]
    assert seen == [["REOPEN"], [], []]
