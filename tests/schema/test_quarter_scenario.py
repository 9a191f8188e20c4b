"""A whole quarter of a company with two teams, through GraphQL over HTTP (issue 3).

Exec drafts -> negotiation with a counter-proposal -> approval -> activation -> check-ins ->
a mid-quarter target change via proposal -> a stale proposal -> end -> scoring -> publish -> close,
asserting state, the event history and who can see the drafts at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from tests.schema.workflow_ops import (
    ADD_COMMENT,
    CREATE_CYCLE,
    CREATE_OBJECTIVE,
    CREATE_PROPOSAL,
    OBJECTIVE,
    PUBLISH_RETROSPECTIVE,
    RECORD_CHECK_IN,
    REVIEW_PROPOSAL,
    REVISE_PROPOSAL,
    SCORE_KEY_RESULT,
    TRANSITION_CYCLE,
    TRANSITION_OBJECTIVE,
    UPDATE_KEY_RESULT,
    UPDATE_OBJECTIVE,
    key_result_input,
    kinds_seen,
    notification_kinds,
    ok,
    refused,
)
from workflow import models
from workflow.enums import Role, TeamRole


@dataclass
class Company:
    org: models.Organization
    growth: models.Team
    platform: models.Team
    admin: models.User
    ceo: models.User
    grace: models.User  # leads Growth
    gil: models.User  # member of Growth
    pat: models.User  # leads Platform
    vera: models.User  # organization VIEWER


async def company(factory: Factory) -> Company:
    org = await factory.organization()
    root = await factory.team(org, "Company")
    growth = await factory.team(org, "Growth", parent=root)
    platform = await factory.team(org, "Platform", parent=root)
    return Company(
        org=org,
        growth=growth,
        platform=platform,
        admin=await factory.user(org, Role.ADMIN, name="Ada"),
        ceo=await factory.user(org, Role.EXEC, name="Cleo"),
        grace=await factory.user(org, name="Grace", teams={growth: TeamRole.LEAD}),
        gil=await factory.user(org, name="Gil", teams={growth: TeamRole.MEMBER}),
        pat=await factory.user(org, name="Pat", teams={platform: TeamRole.LEAD}),
        vera=await factory.user(org, Role.VIEWER, name="Vera"),
    )


async def status_of(api: Api, objective_id: str, as_: models.User) -> str | None:
    """The status the user reads, or None when the objective is invisible to them."""
    node = (await api(OBJECTIVE, {"id": objective_id}, as_=as_))["node"]
    return None if node is None else str(node["status"])


async def test_a_whole_quarter(api: Api, factory: Factory) -> None:
    c = await company(factory)

    # --- planning: the admin opens the quarter, the CEO drafts for Growth ----------------------
    quarter = {"name": "Q4 2026", "kind": "QUARTER", "startsOn": "2026-10-01", "endsOn": "2026-12-31"}
    cycle = (await ok(api, CREATE_CYCLE, {"input": quarter}, c.admin))["cycle"]
    assert cycle["phase"] == "PLANNING"
    assert cycle["availableTransitions"] == ["OPEN_NEGOTIATION"]
    overlapping = {**quarter, "name": "Overlap", "startsOn": "2026-12-01", "endsOn": "2027-02-28"}
    assert await refused(api, CREATE_CYCLE, {"input": overlapping}, c.ceo) == "CYCLE_OVERLAP"
    assert await refused(api, CREATE_CYCLE, {"input": {**quarter, "kind": "CUSTOM"}}, c.grace) == "FORBIDDEN"

    growth_id = to_global_id("Team", c.growth.id)
    draft = {
        "cycleId": cycle["id"],
        "title": "Make onboarding effortless",
        "motivation": "Half of the sign-ups never finish setting up.",
        "ownerTeamId": growth_id,
        "commitment": "COMMITTED",
        "tags": ["growth", "onboarding"],
        "keyResults": [
            key_result_input("Activation rate", start=40, target=60),
            key_result_input("Setup minutes", start=30, target=10, direction="DECREASE"),
        ],
    }
    objective = (await ok(api, CREATE_OBJECTIVE, {"input": draft}, c.ceo))["objective"]
    oid = objective["id"]
    assert objective["status"] == "DRAFT"
    assert [kr["targetValue"] for kr in objective["keyResults"]] == [60, 10]
    # An exec draft stays with the execs while the cycle is PLANNING.
    assert [await status_of(api, oid, u) for u in (c.admin, c.grace, c.gil, c.vera)] == ["DRAFT", None, None, None]
    # ...and cannot go to the team before the team can see it.
    assert await refused(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "SUBMIT"}, c.ceo) == "TRANSITION_NOT_ALLOWED"

    # --- negotiation: the draft goes to Growth's lead, who counter-proposes ---------------------
    opened = await ok(api, TRANSITION_CYCLE, {"id": cycle["id"], "event": "OPEN_NEGOTIATION"}, c.ceo)
    assert opened["cycle"]["phase"] == "NEGOTIATING"
    # Drafts: the owning team's lead now sees it; a team member and a viewer still do not.
    assert [await status_of(api, oid, u) for u in (c.grace, c.gil, c.vera)] == ["DRAFT", None, None]

    submitted = (await ok(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "SUBMIT"}, c.ceo))["objective"]
    assert submitted["status"] == "IN_REVIEW"
    assert "review_requested" in await notification_kinds(api, c.grace)
    # Two-sided: the exec who submitted cannot accept their own offer; the lead can.
    assert await refused(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "APPROVE"}, c.ceo) == "FORBIDDEN"
    grace_view = (await api(OBJECTIVE, {"id": oid}, as_=c.grace))["node"]
    assert set(grace_view["availableTransitions"]) == {"APPROVE", "REQUEST_CHANGES", "CANCEL"}

    no_comment = {"id": oid, "event": "REQUEST_CHANGES"}
    assert await refused(api, TRANSITION_OBJECTIVE, no_comment, c.grace) == "VALIDATION"
    sent_back = await ok(
        api, TRANSITION_OBJECTIVE, {**no_comment, "comment": "60% is out of reach; 55% is ambitious."}, c.grace
    )
    assert sent_back["objective"]["status"] == "DRAFT"
    assert "changes_requested" in await notification_kinds(api, c.ceo)

    # The counter-proposal: Grace edits the draft with the versions she read.
    version = sent_back["objective"]["version"]
    activation = sent_back["objective"]["keyResults"][0]
    stale = {"id": oid, "version": version - 1, "patch": {"title": "Stale edit"}}
    assert await refused(api, UPDATE_OBJECTIVE, stale, c.grace) == "VERSION_CONFLICT"
    edited = await ok(
        api, UPDATE_OBJECTIVE, {"id": oid, "version": version, "patch": {"title": "Onboarding in one sitting"}}, c.grace
    )
    assert edited["objective"]["title"] == "Onboarding in one sitting"
    lowered = await ok(
        api,
        UPDATE_KEY_RESULT,
        {"id": activation["id"], "version": activation["version"], "patch": {"targetValue": 55}},
        c.grace,
    )
    assert lowered["keyResult"]["targetValue"] == 55
    # Now the team side submits, so the exec side decides; nobody approves their own submission.
    await ok(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "SUBMIT"}, c.grace)
    assert await refused(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "APPROVE"}, c.grace) == "FORBIDDEN"
    assert "review_requested" in await notification_kinds(api, c.ceo)
    approved = await ok(api, TRANSITION_OBJECTIVE, {"id": oid, "event": "APPROVE"}, c.ceo)
    assert approved["objective"]["status"] == "APPROVED"

    # Platform drafts two of its own: one agreed, one left hanging.
    platform_id = to_global_id("Team", c.platform.id)
    agreed_input = {
        "cycleId": cycle["id"],
        "title": "Fast, boring deploys",
        "ownerTeamId": platform_id,
        "parentId": oid,
        "keyResults": [key_result_input("Deploy minutes", start=30, target=5, direction="DECREASE")],
    }
    agreed = (await ok(api, CREATE_OBJECTIVE, {"input": agreed_input}, c.pat))["objective"]
    await ok(api, TRANSITION_OBJECTIVE, {"id": agreed["id"], "event": "SUBMIT"}, c.pat)
    # The lead of the parent objective's team may approve a child aligned to it.
    assert "APPROVE" in (await api(OBJECTIVE, {"id": agreed["id"]}, as_=c.grace))["node"]["availableTransitions"]
    await ok(api, TRANSITION_OBJECTIVE, {"id": agreed["id"], "event": "APPROVE"}, c.grace)
    hanging_input = {"cycleId": cycle["id"], "title": "Rewrite the build", "ownerTeamId": platform_id}
    hanging = (await ok(api, CREATE_OBJECTIVE, {"input": hanging_input}, c.pat))["objective"]
    assert await status_of(api, hanging["id"], c.grace) is None  # another team's draft

    # --- activation ---------------------------------------------------------------------------
    activate = {"id": cycle["id"], "event": "ACTIVATE"}
    assert await refused(api, TRANSITION_CYCLE, activate, c.ceo) == "TRANSITION_NOT_ALLOWED"
    assert await refused(api, TRANSITION_CYCLE, {**activate, "force": True}, c.ceo) == "VALIDATION"
    forced = {**activate, "force": True, "reason": "Planning time is over."}
    assert (await ok(api, TRANSITION_CYCLE, forced, c.ceo))["cycle"]["phase"] == "ACTIVE"
    assert await status_of(api, hanging["id"], c.pat) == "CANCELLED"
    assert (await kinds_seen(api, hanging["id"], c.pat))[-1] == "objective.cancelled"
    # Agreed objectives are now public: the whole organization, viewers included, sees them.
    assert [await status_of(api, oid, u) for u in (c.gil, c.vera, c.pat)] == ["ACTIVE"] * 3

    # --- check-ins ------------------------------------------------------------------------------
    kr_id = activation["id"]
    check_in = {"keyResultId": kr_id, "value": 47, "measuredAt": "2026-11-01T09:00:00Z", "idempotencyKey": "gil-1"}
    first = await ok(api, RECORD_CHECK_IN, {"input": check_in}, c.gil)
    again = await ok(api, RECORD_CHECK_IN, {"input": check_in}, c.gil)
    assert again["checkIn"]["id"] == first["checkIn"]["id"]
    assert again["keyResult"]["checkIns"]["totalCount"] == 1
    assert first["keyResult"]["currentValue"] == 47
    assert await refused(api, RECORD_CHECK_IN, {"input": {**check_in, "idempotencyKey": "x"}}, c.vera) == "FORBIDDEN"
    assert await refused(api, RECORD_CHECK_IN, {"input": {**check_in, "idempotencyKey": "x"}}, c.pat) == "FORBIDDEN"

    # --- mid-quarter: agreed objectives change only through proposals -------------------------
    live = (await api(OBJECTIVE, {"id": oid}, as_=c.grace))["node"]
    in_place = {"id": oid, "version": live["version"], "patch": {"title": "Sneaky"}}
    assert await refused(api, UPDATE_OBJECTIVE, in_place, c.grace) == "EDIT_THROUGH_PROPOSAL"
    raise_target = {
        "objectiveId": oid,
        "baseVersion": live["version"],
        "rationale": "We hit 47% in a month: 58% is the honest stretch.",
        "keyResults": [{"keyResultId": kr_id, "patch": {"targetValue": 58}}],
    }
    proposal = (await ok(api, CREATE_PROPOSAL, {"input": raise_target}, c.grace))["proposal"]
    assert proposal["changes"] == [
        {"path": "keyResults[Activation rate].targetValue", "before": "55.0", "after": "58.0"}
    ]
    assert "review_requested" in await notification_kinds(api, c.ceo)
    applied = (await ok(api, REVIEW_PROPOSAL, {"id": proposal["id"], "decision": "APPROVE"}, c.ceo))["proposal"]
    assert applied["status"] == "APPLIED"
    assert applied["objective"]["version"] == live["version"] + 1
    assert applied["objective"]["keyResults"][0]["targetValue"] == 58
    assert "proposal_decided" in await notification_kinds(api, c.grace)

    # --- a stale proposal: two written against one version, the second is refused -------------
    base = applied["objective"]["version"]
    retitle = {"objectiveId": oid, "baseVersion": base, "rationale": "Clearer.", "objective": {"title": "Onboard in 1"}}
    retag = {"objectiveId": oid, "baseVersion": base, "rationale": "Tagging.", "objective": {"tags": ["growth"]}}
    first_p = (await ok(api, CREATE_PROPOSAL, {"input": retitle}, c.grace))["proposal"]
    second_p = (await ok(api, CREATE_PROPOSAL, {"input": retag}, c.gil))["proposal"]
    await ok(api, REVIEW_PROPOSAL, {"id": first_p["id"], "decision": "APPROVE"}, c.ceo)
    stale_review = await api(REVIEW_PROPOSAL, {"id": second_p["id"], "decision": "APPROVE"}, as_=c.ceo)
    payload = stale_review["reviewProposal"]
    assert [e["code"] for e in payload["userErrors"]] == ["STALE_PROPOSAL"]
    assert payload["proposal"]["status"] == "STALE"
    current = (await api(OBJECTIVE, {"id": oid}, as_=c.gil))["node"]
    assert current["tags"] == ["growth", "onboarding"]  # nothing of the stale proposal applied
    revised = await ok(
        api, REVISE_PROPOSAL, {"id": second_p["id"], "input": {**retag, "baseVersion": current["version"]}}, c.gil
    )
    assert revised["proposal"]["status"] == "OPEN"
    assert revised["proposal"]["baseVersion"] == current["version"]
    await ok(api, ADD_COMMENT, {"subjectId": second_p["id"], "body": "Rebased onto the new title."}, c.gil)
    done = (await ok(api, REVIEW_PROPOSAL, {"id": second_p["id"], "decision": "APPROVE"}, c.ceo))["proposal"]
    assert done["status"] == "APPLIED"
    assert done["comments"] == [{"body": "Rebased onto the new title."}]
    assert (await api(OBJECTIVE, {"id": oid}, as_=c.gil))["node"]["tags"] == ["growth"]

    # --- end of the quarter ---------------------------------------------------------------------
    end = {"id": cycle["id"], "event": "END"}
    assert await refused(api, TRANSITION_CYCLE, end, c.ceo) == "TRANSITION_NOT_ALLOWED"  # before its end date
    assert (await ok(api, TRANSITION_CYCLE, end, c.admin))["cycle"]["phase"] == "REVIEWING"
    late = {"keyResultId": kr_id, "value": 99, "idempotencyKey": "late"}
    late_in = await ok(api, RECORD_CHECK_IN, {"input": late}, c.gil)
    assert late_in["checkIn"]["afterCycleEnd"] is True
    assert late_in["keyResult"]["currentValue"] == 47  # kept, flagged, not folded into the figures

    # --- scoring and the retrospective --------------------------------------------------------
    setup_kr = applied["objective"]["keyResults"][1]["id"]
    assert await refused(api, SCORE_KEY_RESULT, {"id": kr_id, "score": 0.5}, c.gil) == "FORBIDDEN"
    assert await refused(api, SCORE_KEY_RESULT, {"id": kr_id, "score": 1.5}, c.grace) == "VALIDATION"
    scored = await ok(api, SCORE_KEY_RESULT, {"id": kr_id, "score": 0.6, "reflection": "Slow start."}, c.grace)
    assert scored["keyResult"]["objective"]["status"] == "ACTIVE"
    last = await ok(api, SCORE_KEY_RESULT, {"id": setup_kr, "score": 0.8, "reflection": "Good."}, c.grace)
    assert last["keyResult"]["objective"] == {"status": "COMPLETED", "score": 0.7}
    # Reflections stay with the team and execs until the retrospective is published.
    assert (await api(OBJECTIVE, {"id": oid}, as_=c.pat))["node"]["keyResults"][0]["reflection"] is None
    close = {"id": cycle["id"], "event": "CLOSE"}
    assert await refused(api, TRANSITION_CYCLE, close, c.ceo) == "TRANSITION_NOT_ALLOWED"  # Platform unscored
    publish = {"cycleId": cycle["id"], "teamId": growth_id}
    assert await refused(api, PUBLISH_RETROSPECTIVE, publish, c.pat) == "FORBIDDEN"
    published = await ok(api, PUBLISH_RETROSPECTIVE, publish, c.grace)
    assert published["retrospective"]["published"] is True
    assert (await api(OBJECTIVE, {"id": oid}, as_=c.pat))["node"]["keyResults"][0]["reflection"] == "Slow start."

    deploy_kr = agreed["keyResults"][0]["id"]
    await ok(api, SCORE_KEY_RESULT, {"id": deploy_kr, "score": 1.0}, c.pat)
    assert (await ok(api, TRANSITION_CYCLE, close, c.ceo))["cycle"]["phase"] == "CLOSED"
    assert await refused(api, TRANSITION_CYCLE, {"id": cycle["id"], "event": "REOPEN"}, c.admin) == "VALIDATION"
    reopened = await ok(api, TRANSITION_CYCLE, {"id": cycle["id"], "event": "REOPEN", "reason": "Late data."}, c.admin)
    assert reopened["cycle"]["phase"] == "REVIEWING"

    # --- the history tells the whole story, with actors and field changes --------------------
    history = (await api(OBJECTIVE, {"id": oid}, as_=c.ceo))["node"]["history"]
    kinds = [e["node"]["kind"] for e in history["edges"]]
    assert kinds == [
        "objective.created",
        "objective.submitted",
        "objective.changes_requested",
        "objective.updated",
        "key_result.updated",
        "objective.submitted",
        "objective.approved",
        "objective.activated",
        "key_result.checked_in",
        "proposal.created",
        "proposal.applied",
        "objective.changed_by_proposal",
        "proposal.created",
        "proposal.created",
        "proposal.applied",
        "objective.changed_by_proposal",
        "proposal.stale",
        "proposal.revised",
        "comment.added",
        "proposal.applied",
        "objective.changed_by_proposal",
        "key_result.checked_in",
        "key_result.scored",
        "key_result.scored",
        "objective.completed",
    ]
    by_kind = {e["node"]["kind"]: e["node"] for e in history["edges"]}
    assert by_kind["objective.approved"]["actor"] == {"name": "Cleo"}
    assert {"path": "status", "before": "IN_REVIEW", "after": "APPROVED"} in by_kind["objective.approved"]["changes"]
    assert by_kind["objective.updated"]["changes"] == [
        {"path": "title", "before": "Make onboarding effortless", "after": "Onboarding in one sitting"}
    ]
