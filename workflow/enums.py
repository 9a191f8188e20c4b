"""Domain vocabularies. Stored by name; the GraphQL layer exposes the same names."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    EXEC = "EXEC"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


class TeamRole(StrEnum):
    LEAD = "LEAD"
    MEMBER = "MEMBER"


class CycleKind(StrEnum):
    QUARTER = "QUARTER"
    YEAR = "YEAR"
    CUSTOM = "CUSTOM"


class CyclePhase(StrEnum):
    PLANNING = "PLANNING"
    NEGOTIATING = "NEGOTIATING"
    ACTIVE = "ACTIVE"
    REVIEWING = "REVIEWING"
    CLOSED = "CLOSED"


class CycleEvent(StrEnum):
    OPEN_NEGOTIATION = "OPEN_NEGOTIATION"
    ACTIVATE = "ACTIVATE"
    END = "END"
    CLOSE = "CLOSE"
    REOPEN = "REOPEN"


class ObjectiveStatus(StrEnum):
    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ObjectiveEvent(StrEnum):
    SUBMIT = "SUBMIT"
    APPROVE = "APPROVE"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    CANCEL = "CANCEL"
    COMPLETE = "COMPLETE"


class ObjectiveLevel(StrEnum):
    COMPANY = "COMPANY"
    TEAM = "TEAM"
    INDIVIDUAL = "INDIVIDUAL"


class ObjectiveOrigin(StrEnum):
    """Which side of the negotiation drafted an objective: it decides who must accept it."""

    EXEC = "EXEC"
    TEAM = "TEAM"


class Commitment(StrEnum):
    COMMITTED = "COMMITTED"
    ASPIRATIONAL = "ASPIRATIONAL"


class Visibility(StrEnum):
    ORGANIZATION = "ORGANIZATION"
    TEAM = "TEAM"
    PRIVATE = "PRIVATE"


class Direction(StrEnum):
    INCREASE = "INCREASE"
    DECREASE = "DECREASE"


class CalculationType(StrEnum):
    ABSOLUTE_TARGET = "ABSOLUTE_TARGET"
    PERCENTAGE_LIFT = "PERCENTAGE_LIFT"
    ABSOLUTE_LIFT = "ABSOLUTE_LIFT"


class TrackingFrequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"


class Rollup(StrEnum):
    LAST = "LAST"
    AVERAGE = "AVERAGE"
    SUM = "SUM"
    MAX = "MAX"
    MIN = "MIN"


class Health(StrEnum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    BEHIND = "BEHIND"
    NOT_STARTED = "NOT_STARTED"


class Color(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    GREY = "GREY"


class ProposalStatus(StrEnum):
    OPEN = "OPEN"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    STALE = "STALE"


class ReviewDecision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REQUEST_CHANGES = "REQUEST_CHANGES"


class LintSeverity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class InitiativeKind(StrEnum):
    INITIATIVE = "INITIATIVE"
    EXPERIMENT = "EXPERIMENT"


class ReminderCadence(StrEnum):
    WEEKLY = "WEEKLY"
    BIWEEKLY = "BIWEEKLY"
    MONTHLY = "MONTHLY"
    OFF = "OFF"
