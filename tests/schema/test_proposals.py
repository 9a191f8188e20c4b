"""Proposals over HTTP: every kind of change, the review rules, and what stays untouched on refusal."""

from __future__ import annotations

from dataclasses import dataclass

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import (
    CREATE_PROPOSAL,
    OBJECTIVE,
    REVIEW_PROPOSAL,
    REVISE_PROPOSAL,
    WITHDRAW_PROPOSAL,
    key_result_input,
    kinds_seen,
    ok,
    refused,
)
from workflow import models
from workflow.enums import CycleKind, CyclePhase, ObjectiveStatus, Role, TeamRole


@dataclass
class Setup:
    exec_: models.User
    lead: models.User
    member: models.User
    outsider: models.User
    cycle: models.Cycle
    objective: models.Objective
    kr: models.KeyResult
    oid: str
    kr_id: str


async def setup(factory: Factory) -> Setup:
    org = await factory.organization()
    root = await factory.team(org, "Company")
    team = await factory.team(org, "Growth", parent=root)
    other = await factory.team(org, "Sales", parent=root)
    exec_ = await factory.user(org, Role.EXEC, name="Cleo")
    lead = await factory.user(org, name="Grace", teams={team: TeamRole.LEAD})
    member = await factory.user(org, name="Gil", teams={team: TeamRole.MEMBER})
    outsider = await factory.user(org, name="Sam", teams={other: TeamRole.LEAD})
    cycle = await factory.cycle(org, phase=CyclePhase.ACTIVE)
    objective = await factory.objective(cycle, team, title="Grow", status=ObjectiveStatus.ACTIVE, tags=["a"])
    kr = await factory.key_result(objective, title="Signups", start=0, target=100)
    return Setup(
        exec_,
        lead,
        member,
        outsider,
        cycle,
        objective,
        kr,
        to_global_id("Objective", objective.id),
        to_global_id("KeyResult", kr.id),
    )


def proposal(s: Setup, **changes: object) -> dict[str, object]:
    return {"objectiveId": s.oid, "baseVersion": 1, "rationale": "Because.", **changes}


async def test_every_kind_of_change_applies_at_once(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    company = await factory.objective(s.cycle, None, title="Company goal", status=ObjectiveStatus.ACTIVE)
    dropped = await factory.key_result(s.objective, title="Old metric")
    changes = proposal(
        s,
        objective={"title": "Grow faster", "tags": ["b"], "parentId": to_global_id("Objective", company.id)},
        keyResults=[
            {"keyResultId": s.kr_id, "patch": {"targetValue": 120, "title": "Weekly signups"}},
            {"add": key_result_input("Retention", start=20, target=30)},
            {"keyResultId": to_global_id("KeyResult", dropped.id), "remove": True},
        ],
    )
    created = (await ok(api, CREATE_PROPOSAL, {"input": changes}, s.member))["proposal"]
    assert created["status"] == "OPEN"
    assert created["changes"] == [
        {"path": "objective.title", "before": "Grow", "after": "Grow faster"},
        {"path": "objective.tags", "before": "a", "after": "b"},
        {"path": "objective.parent", "before": None, "after": "Company goal"},
        {"path": "keyResults[Signups].title", "before": "Signups", "after": "Weekly signups"},
        {"path": "keyResults[Signups].targetValue", "before": "100.0", "after": "120.0"},
        {"path": "keyResults", "before": None, "after": "Retention: 20 → 30 count"},
        {"path": "keyResults[Old metric]", "before": "Old metric", "after": None},
    ]
    # Nothing moves before approval.
    untouched = (await api(OBJECTIVE, {"id": s.oid}, as_=s.lead))["node"]
    assert (untouched["title"], untouched["version"]) == ("Grow", 1)

    applied = (await ok(api, REVIEW_PROPOSAL, {"id": created["id"], "decision": "APPROVE"}, s.exec_))["proposal"]
    objective = applied["objective"]
    assert (applied["status"], objective["title"], objective["version"]) == ("APPLIED", "Grow faster", 2)
    assert [(kr["title"], kr["targetValue"], kr["version"]) for kr in objective["keyResults"]] == [
        ("Weekly signups", 120, 2),
        ("Retention", 30, 1),
    ]
    assert applied["reviews"] == [{"reviewer": {"name": "Cleo"}, "decision": "APPROVE", "comment": ""}]
    tags = (await api(OBJECTIVE, {"id": s.oid}, as_=s.lead))["node"]["tags"]
    assert tags == ["b"]
    # The ObjectiveTag rows followed the change, so the tag filter finds it.
    filtered = await api('query { objectives(filter: {tag: "b"}) { edges { node { title } } } }', as_=s.lead)
    assert [e["node"]["title"] for e in filtered["objectives"]["edges"]] == ["Grow faster"]


async def test_a_cancelling_proposal_cancels_an_active_objective(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    created = (await ok(api, CREATE_PROPOSAL, {"input": proposal(s, cancel=True)}, s.lead))["proposal"]
    assert created["changes"] == [{"path": "status", "before": "ACTIVE", "after": "CANCELLED"}]
    applied = (await ok(api, REVIEW_PROPOSAL, {"id": created["id"], "decision": "APPROVE"}, s.exec_))["proposal"]
    assert applied["objective"]["status"] == "CANCELLED"
    assert (await kinds_seen(api, s.oid, s.exec_))[-1] == "objective.cancelled"


async def test_who_may_propose_and_review(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    change = proposal(s, objective={"title": "Mine"})
    assert await refused(api, CREATE_PROPOSAL, {"input": change}, s.outsider) == "FORBIDDEN"
    created = (await ok(api, CREATE_PROPOSAL, {"input": change}, s.member))["proposal"]
    approve = {"id": created["id"], "decision": "APPROVE"}
    # A team's proposal is decided by the exec side, never by its author or the author's own team.
    assert await refused(api, REVIEW_PROPOSAL, approve, s.member) == "FORBIDDEN"
    assert await refused(api, REVIEW_PROPOSAL, approve, s.lead) == "FORBIDDEN"
    # An exec's proposal goes the other way: the owning team's lead decides.
    from_exec = (await ok(api, CREATE_PROPOSAL, {"input": proposal(s, cancel=True)}, s.exec_))["proposal"]
    assert await refused(api, REVIEW_PROPOSAL, {"id": from_exec["id"], "decision": "APPROVE"}, s.exec_) == "FORBIDDEN"
    reject = {"id": from_exec["id"], "decision": "REJECT", "comment": "We are on track."}
    assert (await ok(api, REVIEW_PROPOSAL, reject, s.lead))["proposal"]["status"] == "REJECTED"


async def test_decisions_other_than_approval_need_a_comment(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    created = (await ok(api, CREATE_PROPOSAL, {"input": proposal(s, objective={"title": "X"})}, s.lead))["proposal"]
    for decision in ("REJECT", "REQUEST_CHANGES"):
        assert await refused(api, REVIEW_PROPOSAL, {"id": created["id"], "decision": decision}, s.exec_) == "VALIDATION"
    asked = await ok(
        api, REVIEW_PROPOSAL, {"id": created["id"], "decision": "REQUEST_CHANGES", "comment": "Why X?"}, s.exec_
    )
    assert asked["proposal"]["status"] == "CHANGES_REQUESTED"
    assert asked["proposal"]["comments"] == [{"body": "Why X?"}]
    # Only the author revises or withdraws.
    revision = {"id": created["id"], "input": proposal(s, objective={"title": "Y"})}
    assert await refused(api, REVISE_PROPOSAL, revision, s.member) == "FORBIDDEN"
    revised = (await ok(api, REVISE_PROPOSAL, revision, s.lead))["proposal"]
    assert revised["status"] == "OPEN"
    assert revised["changes"] == [{"path": "objective.title", "before": "Grow", "after": "Y"}]
    assert await refused(api, WITHDRAW_PROPOSAL, {"id": created["id"]}, s.exec_) == "FORBIDDEN"
    withdrawn = await ok(api, WITHDRAW_PROPOSAL, {"id": created["id"]}, s.lead)
    assert withdrawn["proposal"]["status"] == "WITHDRAWN"
    approve = {"id": created["id"], "decision": "APPROVE"}
    assert await refused(api, REVIEW_PROPOSAL, approve, s.exec_) == "TRANSITION_NOT_ALLOWED"


async def test_refusals_of_bad_proposals(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    stale_base = proposal(s, objective={"title": "X"}, baseVersion=0)
    assert await refused(api, CREATE_PROPOSAL, {"input": stale_base}, s.lead) == "VERSION_CONFLICT"
    assert await refused(api, CREATE_PROPOSAL, {"input": proposal(s)}, s.lead) == "VALIDATION"  # no change
    two_at_once = proposal(s, keyResults=[{"keyResultId": s.kr_id, "remove": True, "add": key_result_input("Z")}])
    assert await refused(api, CREATE_PROPOSAL, {"input": two_at_once}, s.lead) == "VALIDATION"
    foreign = await factory.key_result(await factory.objective(s.cycle, None, status=ObjectiveStatus.ACTIVE))
    elsewhere = proposal(s, keyResults=[{"keyResultId": to_global_id("KeyResult", foreign.id), "remove": True}])
    assert await refused(api, CREATE_PROPOSAL, {"input": elsewhere}, s.lead) == "NOT_FOUND"
    no_target = proposal(s, keyResults=[{"add": {**key_result_input("Z"), "targetValue": None}}])
    assert await refused(api, CREATE_PROPOSAL, {"input": no_target}, s.lead) == "VALIDATION"
    draft = await factory.objective(s.cycle, None, status=ObjectiveStatus.DRAFT, author=s.lead)
    on_draft = {**proposal(s, cancel=True), "objectiveId": to_global_id("Objective", draft.id)}
    assert await refused(api, CREATE_PROPOSAL, {"input": on_draft}, s.lead) == "TRANSITION_NOT_ALLOWED"


async def test_realignment_refuses_loops_and_unrelated_cycles(api: Api, factory: Factory) -> None:
    s = await setup(factory)
    child = await factory.objective(s.cycle, None, title="Child", status=ObjectiveStatus.ACTIVE, parent=s.objective)
    loop = proposal(s, objective={"parentId": to_global_id("Objective", child.id)})
    assert await refused(api, CREATE_PROPOSAL, {"input": loop}, s.lead) == "ALIGNMENT_LOOP"
    self_loop = proposal(s, objective={"parentId": s.oid})
    assert await refused(api, CREATE_PROPOSAL, {"input": self_loop}, s.lead) == "ALIGNMENT_LOOP"

    org = await factory.organization()  # ids from another tenant read as missing
    stranger = await factory.objective(await factory.cycle(org), None, status=ObjectiveStatus.ACTIVE)
    foreign = proposal(s, objective={"parentId": to_global_id("Objective", stranger.id)})
    assert await refused(api, CREATE_PROPOSAL, {"input": foreign}, s.lead) == "NOT_FOUND"

    own_org = await _org_of(factory, s)
    year = await factory.cycle(own_org, kind=CycleKind.YEAR, name="2026", phase=CyclePhase.ACTIVE)
    next_quarter = await factory.cycle(own_org, name="Q1 2027", phase=CyclePhase.ACTIVE)
    in_year = await factory.objective(year, None, title="Yearly", status=ObjectiveStatus.ACTIVE)
    in_next = await factory.objective(next_quarter, None, title="Later", status=ObjectiveStatus.ACTIVE)
    s.cycle.parent_id = year.id
    await factory.session.flush()
    unrelated = proposal(s, objective={"parentId": to_global_id("Objective", in_next.id)})
    assert await refused(api, CREATE_PROPOSAL, {"input": unrelated}, s.lead) == "ALIGNMENT_CYCLE_MISMATCH"
    enclosing = proposal(s, objective={"parentId": to_global_id("Objective", in_year.id)})
    created = (await ok(api, CREATE_PROPOSAL, {"input": enclosing}, s.lead))["proposal"]
    assert created["changes"] == [{"path": "objective.parent", "before": None, "after": "Yearly"}]


async def _org_of(factory: Factory, s: Setup) -> models.Organization:
    org = await factory.session.get(models.Organization, s.cycle.organization_id)
    assert org is not None
    return org
