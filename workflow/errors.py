"""Expected failures of the domain. The API maps each to a typed user error with its stable code."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    TRANSITION_NOT_ALLOWED = "TRANSITION_NOT_ALLOWED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    EDIT_THROUGH_PROPOSAL = "EDIT_THROUGH_PROPOSAL"
    STALE_PROPOSAL = "STALE_PROPOSAL"
    ALIGNMENT_LOOP = "ALIGNMENT_LOOP"
    ALIGNMENT_CYCLE_MISMATCH = "ALIGNMENT_CYCLE_MISMATCH"
    CYCLE_OVERLAP = "CYCLE_OVERLAP"
    CONFLICT = "CONFLICT"


class DomainError(Exception):
    """A refusal the user can act on. Never an internal fault."""

    def __init__(self, code: ErrorCode | str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """Missing and invisible objects read the same: one message for both (DESIGN §4)."""

    def __init__(self, what: str = "object", field: str | None = "id") -> None:
        super().__init__(ErrorCode.NOT_FOUND, f"No {what} with that id.", field)


class Forbidden(DomainError):
    def __init__(self, message: str = "You are not allowed to do that.", field: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field)


class ValidationFailed(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(ErrorCode.VALIDATION, message, field)


class VersionConflict(DomainError):
    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(
            ErrorCode.VERSION_CONFLICT,
            f"The {what} changed since you read it (you had version {expected}, it is now {actual}). "
            "Reload and apply your edit again.",
            "version",
        )
        self.expected = expected
        self.actual = actual


class TransitionNotAllowed(DomainError):
    def __init__(self, message: str, field: str | None = "event") -> None:
        super().__init__(ErrorCode.TRANSITION_NOT_ALLOWED, message, field)
