"""The GraphQL documents the benchmarks send, one per figure, and PostGraphile's equivalent."""

from __future__ import annotations

TREE = """
query Tree($cycleId: ID!) {
  alignmentTree(cycleId: $cycleId) {
    nodes {
      id parentId depth restricted
      objective { id title progress health color parent { id } keyResults { id progress } }
    }
  }
}
"""

DASHBOARD = """
query Dashboard($teamId: ID!, $cycleId: ID!) {
  objectives(filter: {teamId: $teamId, cycleId: $cycleId}, first: 100) {
    totalCount
    edges {
      node {
        id title status progress health
        keyResults { id title currentValue targetValue progress health projectedValue projectedCompletionOn }
      }
    }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) { id ... on Objective { title status visibility weight version } }
}
"""

CHECK_IN = """
mutation CheckIn($input: CheckInInput!) {
  recordCheckIn(input: $input) {
    checkIn { id value }
    keyResult { id currentValue progress }
    userErrors { code message field }
  }
}
"""

# The dashboard data both servers are asked for in dashboard_vs_postgraphile: one team's objectives
# with their key results and each key result's latest check-in value.
DASHBOARD_LATEST = """
query DashboardLatest($teamId: ID!, $cycleId: ID!) {
  objectives(filter: {teamId: $teamId, cycleId: $cycleId}, first: 100) {
    edges { node { id title keyResults { id title currentValue } } }
  }
}
"""

POSTGRAPHILE_DASHBOARD = """
query DashboardLatest($teamId: BigInt!, $cycleId: BigInt!) {
  allObjectives(condition: {ownerTeamId: $teamId, cycleId: $cycleId}, first: 100, orderBy: ID_ASC) {
    nodes {
      id title
      keyResultsByObjectiveId(orderBy: [POSITION_ASC, ID_ASC], condition: {removed: false}) {
        nodes { id title checkInsByKeyResultId(orderBy: MEASURED_AT_DESC, first: 1) { nodes { value } } }
      }
    }
  }
}
"""
