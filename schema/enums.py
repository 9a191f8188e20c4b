"""The domain's vocabularies as GraphQL enums (same names, DESIGN §1-§3).

The workflow's own enum classes are registered with strawberry, so resolvers return domain values
unchanged and mypy sees one class per vocabulary.
"""

import strawberry

from workflow.enums import (
    CalculationType,
    Color,
    Commitment,
    CycleEvent,
    CycleKind,
    CyclePhase,
    Direction,
    Health,
    InitiativeKind,
    LintSeverity,
    ObjectiveEvent,
    ObjectiveLevel,
    ObjectiveStatus,
    ProposalStatus,
    ReviewDecision,
    Role,
    Rollup,
    TeamRole,
    TrackingFrequency,
    Visibility,
)

GRAPHQL_ENUMS = (
    Role,
    TeamRole,
    CycleKind,
    CyclePhase,
    CycleEvent,
    ObjectiveStatus,
    ObjectiveEvent,
    ObjectiveLevel,
    Commitment,
    Visibility,
    Direction,
    CalculationType,
    TrackingFrequency,
    Rollup,
    Health,
    Color,
    ProposalStatus,
    ReviewDecision,
    LintSeverity,
    InitiativeKind,
)
for _vocabulary in GRAPHQL_ENUMS:
    strawberry.enum(_vocabulary)

__all__ = [
    "CalculationType",
    "Color",
    "Commitment",
    "CycleEvent",
    "CycleKind",
    "CyclePhase",
    "Direction",
    "Health",
    "InitiativeKind",
    "LintSeverity",
    "ObjectiveEvent",
    "ObjectiveLevel",
    "ObjectiveStatus",
    "ProposalStatus",
    "ReviewDecision",
    "Role",
    "Rollup",
    "TeamRole",
    "TrackingFrequency",
    "Visibility",
]
