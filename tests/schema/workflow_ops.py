"""GraphQL operations of the workflow, shared by its HTTP tests."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api
from workflow import models

OBJECTIVE_FIELDS = """
  id version title status availableTransitions score reflection
  keyResults { id version title targetValue currentValue score reflection }
"""

CREATE_CYCLE = """
mutation($input: CycleInput!) {
  createCycle(input: $input) { cycle { id name phase availableTransitions } userErrors { code message field } }
}
"""

TRANSITION_CYCLE = """
mutation($id: ID!, $event: CycleEvent!, $reason: String, $force: Boolean) {
  transitionCycle(id: $id, event: $event, reason: $reason, force: $force) {
    cycle { id phase availableTransitions } userErrors { code message field }
  }
}
"""

CREATE_OBJECTIVE = f"""
mutation($input: ObjectiveInput!) {{
  createObjective(input: $input) {{ objective {{ {OBJECTIVE_FIELDS} }} userErrors {{ code message field }} }}
}}
"""

UPDATE_OBJECTIVE = f"""
mutation($id: ID!, $version: Int!, $patch: ObjectivePatch!) {{
  updateObjective(id: $id, version: $version, patch: $patch) {{
    objective {{ {OBJECTIVE_FIELDS} tags }} userErrors {{ code message field }}
  }}
}}
"""

TRANSITION_OBJECTIVE = f"""
mutation($id: ID!, $event: ObjectiveEvent!, $comment: String) {{
  transitionObjective(id: $id, event: $event, comment: $comment) {{
    objective {{ {OBJECTIVE_FIELDS} }} userErrors {{ code message field }}
  }}
}}
"""

ADD_KEY_RESULT = """
mutation($objectiveId: ID!, $input: KeyResultInput!) {
  addKeyResult(objectiveId: $objectiveId, input: $input) {
    keyResult { id version title targetValue } userErrors { code message field }
  }
}
"""

UPDATE_KEY_RESULT = """
mutation($id: ID!, $version: Int!, $patch: KeyResultPatch!) {
  updateKeyResult(id: $id, version: $version, patch: $patch) {
    keyResult { id version title targetValue } userErrors { code message field }
  }
}
"""

REMOVE_KEY_RESULT = f"""
mutation($id: ID!) {{
  removeKeyResult(id: $id) {{ objective {{ {OBJECTIVE_FIELDS} }} userErrors {{ code message field }} }}
}}
"""

RECORD_CHECK_IN = """
mutation($input: CheckInInput!) {
  recordCheckIn(input: $input) {
    checkIn { id value afterCycleEnd author { name } }
    keyResult { id currentValue progress checkIns { totalCount } }
    userErrors { code message field }
  }
}
"""

PROPOSAL_FIELDS = """
  id status baseVersion rationale author { name }
  changes { path before after }
  reviews { reviewer { name } decision comment }
  comments { body }
"""

CREATE_PROPOSAL = f"""
mutation($input: ProposalInput!) {{
  createProposal(input: $input) {{ proposal {{ {PROPOSAL_FIELDS} }} userErrors {{ code message field }} }}
}}
"""

REVIEW_PROPOSAL = f"""
mutation($id: ID!, $decision: ReviewDecision!, $comment: String) {{
  reviewProposal(id: $id, decision: $decision, comment: $comment) {{
    proposal {{ {PROPOSAL_FIELDS} objective {{ {OBJECTIVE_FIELDS} }} }} userErrors {{ code message field }}
  }}
}}
"""

REVISE_PROPOSAL = f"""
mutation($id: ID!, $input: ProposalInput!) {{
  reviseProposal(id: $id, input: $input) {{ proposal {{ {PROPOSAL_FIELDS} }} userErrors {{ code message field }} }}
}}
"""

WITHDRAW_PROPOSAL = """
mutation($id: ID!) { withdrawProposal(id: $id) { proposal { id status } userErrors { code message field } } }
"""

SCORE_KEY_RESULT = """
mutation($id: ID!, $score: Float!, $reflection: String) {
  scoreKeyResult(id: $id, score: $score, reflection: $reflection) {
    keyResult { id score reflection objective { status score } } userErrors { code message field }
  }
}
"""

PUBLISH_RETROSPECTIVE = """
mutation($cycleId: ID!, $teamId: ID!) {
  publishRetrospective(cycleId: $cycleId, teamId: $teamId) {
    retrospective { published averageScore team { name } } userErrors { code message field }
  }
}
"""

ADD_COMMENT = """
mutation($subjectId: ID!, $body: String!) {
  addComment(subjectId: $subjectId, body: $body) {
    comment { id body author { name } } userErrors { code message field }
  }
}
"""

ADD_INITIATIVE = """
mutation($keyResultId: ID!, $kind: InitiativeKind!, $title: String!, $url: String) {
  addInitiative(keyResultId: $keyResultId, kind: $kind, title: $title, url: $url) {
    initiative { id kind title url status } userErrors { code message field }
  }
}
"""

OBJECTIVE = f"""
query($id: ID!) {{
  node(id: $id) {{ ... on Objective {{
    {OBJECTIVE_FIELDS} tags
    history(first: 100) {{ totalCount edges {{ node {{ kind actor {{ name }} changes {{ path before after }} }} }} }}
  }} }}
}}
"""

NOTIFICATIONS = """
query { notifications(first: 50) { edges { node { kind message subject { id } } } } }
"""


def key_result_input(title: str, start: float = 0, target: float = 100, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "metricName": title.lower(),
        "unit": "count",
        "startValue": start,
        "targetValue": target,
        "direction": "INCREASE",
        "calculationType": "ABSOLUTE_TARGET",
        "trackingFrequency": "WEEKLY",
        "rollup": "LAST",
        **extra,
    }


async def mutate(api: Api, query: str, variables: dict[str, Any], as_: models.User) -> dict[str, Any]:
    """The single mutation's payload."""
    data = await api(query, variables, as_=as_)
    (payload,) = data.values()
    return payload  # type: ignore[no-any-return]


async def ok(api: Api, query: str, variables: dict[str, Any], as_: models.User) -> dict[str, Any]:
    """The payload of a mutation that must succeed."""
    payload = await mutate(api, query, variables, as_)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def refused(api: Api, query: str, variables: dict[str, Any], as_: models.User) -> str:
    """The error code of a mutation that must be refused (and leave nothing behind)."""
    payload = await mutate(api, query, variables, as_)
    assert payload["userErrors"], payload
    return str(payload["userErrors"][0]["code"])


async def kinds_seen(api: Api, objective_id: str, as_: models.User) -> list[str]:
    data = await api(OBJECTIVE, {"id": objective_id}, as_=as_)
    return [e["node"]["kind"] for e in data["node"]["history"]["edges"]]


async def notification_kinds(api: Api, as_: models.User) -> list[str]:
    data = await api(NOTIFICATIONS, as_=as_)
    return [e["node"]["kind"] for e in data["notifications"]["edges"]]
