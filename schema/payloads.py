"""Mutation payloads: the changed object, or typed user errors (never both empty)."""

from __future__ import annotations

import strawberry

from schema.types import (
    CheckInType,
    CommentType,
    CycleType,
    InitiativeType,
    KeyResultType,
    ObjectiveType,
    ProposalType,
    TeamType,
    UserError,
    UserType,
)


@strawberry.type
class CyclePayload:
    cycle: CycleType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ObjectivePayload:
    objective: ObjectiveType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class KeyResultPayload:
    key_result: KeyResultType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CheckInPayload:
    check_in: CheckInType | None = None
    key_result: KeyResultType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProposalPayload:
    proposal: ProposalType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CommentPayload:
    comment: CommentType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InitiativePayload:
    initiative: InitiativeType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TeamPayload:
    team: TeamType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: UserType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccessTokenPayload:
    token: str | None = None
    token_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
