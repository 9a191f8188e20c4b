"""The node types of the contract. Resolvers receive ORM rows as their parent and stay thin:
attribute fields read the row, relations go through the request's dataloaders, figures through
`workflow.computation`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from schema.context import Context
from schema.enums import (
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
    TrackingFrequency,
    Visibility,
)
from schema.fast_fields import context_only
from schema.ids import to_global_id
from schema.loaders import soon
from schema.pagination import encode_cursor, page
from workflow import enums, models
from workflow.computation import progress as figures
from workflow.policies import visible_objective_ids

Ctx = Info[Context, None]
T = TypeVar("T")


@strawberry.type
class UserError:
    code: str
    message: str
    field: str | None = None


@strawberry.type
class LintFinding:
    rule: str
    severity: LintSeverity
    message: str
    field: str | None = None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_slice(cls, items: list[Any], offset: int, total: int) -> Connection[Any]:
        edges = [Edge(node=item, cursor=encode_cursor(offset + i)) for i, item in enumerate(items)]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=offset + len(items) < total, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=total,
        )


@strawberry.interface
class Node:
    @strawberry.field
    def id(self, root: strawberry.Parent[Any]) -> strawberry.ID:
        return strawberry.ID(to_global_id(NODE_NAMES[type(root)], root.id))


NODE_NAMES: dict[type, str] = {
    models.User: "User",
    models.Team: "Team",
    models.Cycle: "Cycle",
    models.Objective: "Objective",
    models.KeyResult: "KeyResult",
    models.CheckIn: "CheckIn",
    models.Initiative: "Initiative",
    models.Proposal: "Proposal",
    models.Comment: "Comment",
    models.Event: "Event",
    models.Notification: "Notification",
}


@strawberry.type
class FieldChange:
    path: str
    before: str | None
    after: str | None


@strawberry.type(name="User")
class UserType(Node):
    name: str
    email: str

    @strawberry.field
    async def role(self, root: strawberry.Parent[models.User], info: Ctx) -> Role:
        role = await info.context.loaders.role.load(root.id)
        return role or enums.Role.VIEWER

    @strawberry.field
    async def teams(self, root: strawberry.Parent[models.User], info: Ctx) -> list[TeamType]:
        memberships = await info.context.loaders.user_memberships.load(root.id)
        teams = await info.context.loaders.team.load_many([m.team_id for m in memberships])
        return [t for t in teams if t is not None]  # type: ignore[misc]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.User)


@strawberry.type(name="Team")
class TeamType(Node):
    name: str

    @strawberry.field
    async def parent(self, root: strawberry.Parent[models.Team], info: Ctx) -> TeamType | None:
        if root.parent_id is None:
            return None
        return await info.context.loaders.team.load(root.parent_id)  # type: ignore[return-value]

    @strawberry.field
    async def children(self, root: strawberry.Parent[models.Team], info: Ctx) -> list[TeamType]:
        return await info.context.loaders.team_children.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def leads(self, root: strawberry.Parent[models.Team], info: Ctx) -> list[UserType]:
        memberships = await info.context.loaders.team_memberships.load(root.id)
        lead_ids = [m.user_id for m in memberships if m.role == enums.TeamRole.LEAD]
        users = await info.context.loaders.user.load_many(lead_ids)
        return [u for u in users if u is not None]  # type: ignore[misc]

    @strawberry.field
    async def members(
        self,
        root: strawberry.Parent[models.Team],
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[UserType]:
        window = page(first, after)
        memberships = await info.context.loaders.team_memberships.load(root.id)
        chosen = memberships[window.offset : window.offset + window.limit]
        users = await info.context.loaders.user.load_many([m.user_id for m in chosen])
        return Connection.from_slice([u for u in users if u is not None], window.offset, len(memberships))

    @strawberry.field
    async def objectives(
        self, root: strawberry.Parent[models.Team], info: Ctx, cycle_id: strawberry.ID | None = None
    ) -> list[ObjectiveType]:
        from schema.queries import team_objectives

        return await team_objectives(info, root.id, cycle_id)  # type: ignore[return-value]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Team)


@strawberry.type(name="Cycle")
class CycleType(Node):
    name: str
    kind: CycleKind
    starts_on: dt.date
    ends_on: dt.date
    phase: CyclePhase

    @strawberry.field
    async def parent(self, root: strawberry.Parent[models.Cycle], info: Ctx) -> CycleType | None:
        if root.parent_id is None:
            return None
        return await info.context.loaders.cycle.load(root.parent_id)  # type: ignore[return-value]

    @strawberry.field
    def available_transitions(self, root: strawberry.Parent[models.Cycle], info: Ctx) -> list[CycleEvent]:
        from workflow.machines import cycle_events_available

        return cycle_events_available(root, info.context.viewer, info.context.today)  # type: ignore[return-value]

    @strawberry.field
    def expected_progress(self, root: strawberry.Parent[models.Cycle], info: Ctx) -> float:
        return figures.expected_progress(root, info.context.today)

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Cycle)


@strawberry.type(name="Objective")
class ObjectiveType(Node):
    version: int
    title: str
    description: str
    motivation: str
    commitment: Commitment
    visibility: Visibility
    tags: list[str]
    status: ObjectiveStatus
    weight: float

    # Relations and figures below answer synchronously when a bulk read already holds their rows
    # (see schema.loaders.soon): a big tree or list then completes without one await per field.
    @strawberry.field
    def cycle(self, root: strawberry.Parent[models.Objective], info: Ctx) -> CycleType:
        return soon(info.context.loaders.cycle, root.cycle_id)  # type: ignore[return-value]

    @strawberry.field
    def owner_team(self, root: strawberry.Parent[models.Objective], info: Ctx) -> TeamType | None:
        if root.owner_team_id is None:
            return None
        return soon(info.context.loaders.team, root.owner_team_id)  # type: ignore[return-value]

    @strawberry.field
    async def owner_user(self, root: strawberry.Parent[models.Objective], info: Ctx) -> UserType | None:
        if root.owner_user_id is None:
            return None
        return await info.context.loaders.user.load(root.owner_user_id)  # type: ignore[return-value]

    @strawberry.field
    async def level(self, root: strawberry.Parent[models.Objective], info: Ctx) -> ObjectiveLevel:
        if root.owner_user_id is not None:
            return enums.ObjectiveLevel.INDIVIDUAL
        if root.owner_team_id is not None:
            team = await info.context.loaders.team.load(root.owner_team_id)
            if team is not None and team.parent_id is None:
                return enums.ObjectiveLevel.COMPANY
        return enums.ObjectiveLevel.TEAM

    @strawberry.field
    def parent(self, root: strawberry.Parent[models.Objective], info: Ctx) -> ObjectiveType | None:
        if root.parent_id is None:
            return None
        return soon(info.context.loaders.objective, root.parent_id)  # type: ignore[return-value]

    @strawberry.field
    def children(self, root: strawberry.Parent[models.Objective], info: Ctx) -> list[ObjectiveType]:
        return soon(info.context.loaders.objective_children, root.id)  # type: ignore[arg-type]

    @strawberry.field
    def key_results(self, root: strawberry.Parent[models.Objective], info: Ctx) -> list[KeyResultType]:
        return soon(info.context.loaders.key_results_by_objective, root.id)  # type: ignore[arg-type]

    @strawberry.field
    @context_only
    def progress(self, root: strawberry.Parent[models.Objective], info: Ctx) -> float:
        return figure_fields.objective_progress_soon(info, root)

    @strawberry.field
    async def aligned_progress(self, root: strawberry.Parent[models.Objective], info: Ctx) -> float:
        from schema.figures import aligned_progress

        return await aligned_progress(info, root)

    @strawberry.field
    @context_only
    def health(self, root: strawberry.Parent[models.Objective], info: Ctx) -> Health:
        return figure_fields.objective_health_soon(info, root)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def color(self, root: strawberry.Parent[models.Objective], info: Ctx) -> Color:
        return figure_fields.objective_color_soon(info, root)  # type: ignore[return-value]

    @strawberry.field
    async def score(self, root: strawberry.Parent[models.Objective], info: Ctx) -> float | None:
        from schema.figures import reflection_visible

        return root.score if await reflection_visible(info, root) else None

    @strawberry.field
    async def reflection(self, root: strawberry.Parent[models.Objective], info: Ctx) -> str | None:
        from schema.figures import reflection_visible

        return root.reflection if await reflection_visible(info, root) else None

    @strawberry.field
    async def retrospective_published(self, root: strawberry.Parent[models.Objective], info: Ctx) -> bool:
        if root.owner_team_id is None:
            return False
        retro = await info.context.loaders.retrospective.load((root.cycle_id, root.owner_team_id))
        return retro is not None and retro.published

    @strawberry.field
    async def available_transitions(self, root: strawberry.Parent[models.Objective], info: Ctx) -> list[ObjectiveEvent]:
        from workflow.machines import objective_events_available

        loaders = info.context.loaders
        cycle = await loaders.cycle.load(root.cycle_id)
        assert cycle is not None
        # Approval rights hang on the parent's owning team and on which side submitted.
        parent = await loaders.objective.load(root.parent_id) if root.parent_id is not None else None
        submitter_role = await loaders.role.load(root.submitted_by_id) if root.submitted_by_id is not None else None
        return objective_events_available(  # type: ignore[return-value]
            root,
            cycle,
            info.context.viewer,
            parent_owner_team_id=parent.owner_team_id if parent is not None else None,
            submitter_role=submitter_role,
        )

    @strawberry.field
    async def lint(self, root: strawberry.Parent[models.Objective], info: Ctx) -> list[LintFinding]:
        from schema.figures import objective_lint

        return await objective_lint(info, root)

    @strawberry.field
    async def proposals(
        self, root: strawberry.Parent[models.Objective], info: Ctx, status: ProposalStatus | None = None
    ) -> list[ProposalType]:
        found = await info.context.loaders.proposals_by_objective.load(root.id)
        return [p for p in found if status is None or p.status == status]  # type: ignore[misc]

    @strawberry.field
    async def comments(self, root: strawberry.Parent[models.Objective], info: Ctx) -> list[CommentType]:
        return await info.context.loaders.objective_comments.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def history(
        self,
        root: strawberry.Parent[models.Objective],
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[EventType]:
        window = page(first, after)
        session = await info.context.session()
        where = (
            models.Event.objective_id == root.id,
            models.Event.organization_id == root.organization_id,
            models.Event.objective_id.in_(visible_objective_ids(info.context.viewer)),
        )
        total = (await session.execute(select(func.count()).select_from(models.Event).where(*where))).scalar_one()
        rows = (
            await session.execute(
                select(models.Event).where(*where).order_by(models.Event.id).offset(window.offset).limit(window.limit)
            )
        ).scalars()
        return Connection.from_slice(list(rows), window.offset, total)

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Objective)


@strawberry.type(name="KeyResult")
class KeyResultType(Node):
    version: int
    title: str
    metric_name: str
    unit: str
    start_value: float
    lift_value: float | None
    direction: Direction
    calculation_type: CalculationType
    tracking_frequency: TrackingFrequency
    rollup: Rollup
    counter_metric: bool
    weight: float

    @strawberry.field
    def target_value(self, root: strawberry.Parent[models.KeyResult]) -> float:
        return figures.target_of(root)

    @strawberry.field
    def objective(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> ObjectiveType:
        return soon(info.context.loaders.objective, root.objective_id)  # type: ignore[return-value]

    @strawberry.field
    async def owner(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> UserType | None:
        if root.owner_id is None:
            return None
        return await info.context.loaders.user.load(root.owner_id)  # type: ignore[return-value]

    @strawberry.field
    def current_value(self, root: strawberry.Parent[models.KeyResult]) -> float | None:
        return figures.current_value(root)

    @strawberry.field
    def progress(self, root: strawberry.Parent[models.KeyResult]) -> float:
        return figures.progress(root)

    @strawberry.field(description="Progress before clamping to 0-1: negative when the metric got worse.")
    def raw_progress(self, root: strawberry.Parent[models.KeyResult]) -> float:
        return figures.raw_progress(root)

    @strawberry.field(description="A counter metric that moved the wrong way from its start.")
    def counter_metric_worse(self, root: strawberry.Parent[models.KeyResult]) -> bool:
        return figures.counter_metric_worse(root)

    @strawberry.field
    @context_only
    def health(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> Health:
        return figure_fields.key_result_health_soon(info, root)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def color(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> Color:
        return figure_fields.key_result_color_soon(info, root)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def projected_value(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> float | None:
        return figure_fields.projected_value_soon(info, root)

    @strawberry.field
    @context_only
    def projected_completion_on(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> dt.date | None:
        return figure_fields.projected_completion_soon(info, root)

    @strawberry.field
    async def next_check_in_due(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> dt.date | None:
        from schema.figures import key_result_cycle

        return figures.next_check_in_due(root, await key_result_cycle(info, root))

    @strawberry.field
    async def check_ins(
        self,
        root: strawberry.Parent[models.KeyResult],
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CheckInType]:
        window = page(first, after)
        total = await info.context.loaders.check_in_count.load(root.id)
        items = await info.context.loaders.check_in_page.load((root.id, window.offset, window.limit))
        return Connection.from_slice(items, window.offset, total)

    @strawberry.field
    async def initiatives(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> list[InitiativeType]:
        return await info.context.loaders.initiatives.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def score(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> float | None:
        from schema.figures import key_result_reflection_visible

        return root.score if await key_result_reflection_visible(info, root) else None

    @strawberry.field
    async def reflection(self, root: strawberry.Parent[models.KeyResult], info: Ctx) -> str | None:
        from schema.figures import key_result_reflection_visible

        return root.reflection if await key_result_reflection_visible(info, root) else None

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.KeyResult)


@strawberry.type(name="CheckIn")
class CheckInType(Node):
    value: float
    note: str
    confidence: float | None
    measured_at: dt.datetime
    after_cycle_end: bool

    @strawberry.field
    async def author(self, root: strawberry.Parent[models.CheckIn], info: Ctx) -> UserType:
        return await info.context.loaders.user.load(root.author_id)  # type: ignore[return-value]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.CheckIn)


@strawberry.type(name="Initiative")
class InitiativeType(Node):
    kind: InitiativeKind
    title: str
    url: str | None
    status: str

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Initiative)


@strawberry.type
class Review:
    comment: str

    @strawberry.field
    async def reviewer(self, root: strawberry.Parent[models.ProposalReview], info: Ctx) -> UserType:
        return await info.context.loaders.user.load(root.reviewer_id)  # type: ignore[return-value]

    @strawberry.field
    def decision(self, root: strawberry.Parent[models.ProposalReview]) -> ReviewDecision:
        return enums.ReviewDecision(root.decision)  # type: ignore[return-value]

    @strawberry.field
    def at(self, root: strawberry.Parent[models.ProposalReview]) -> dt.datetime:
        return root.created_at


@strawberry.type(name="Proposal")
class ProposalType(Node):
    status: ProposalStatus
    rationale: str
    base_version: int
    created_at: dt.datetime

    @strawberry.field
    async def objective(self, root: strawberry.Parent[models.Proposal], info: Ctx) -> ObjectiveType:
        return await info.context.loaders.objective.load(root.objective_id)  # type: ignore[return-value]

    @strawberry.field
    async def author(self, root: strawberry.Parent[models.Proposal], info: Ctx) -> UserType:
        return await info.context.loaders.user.load(root.author_id)  # type: ignore[return-value]

    @strawberry.field
    async def changes(self, root: strawberry.Parent[models.Proposal], info: Ctx) -> list[FieldChange]:
        rows = await info.context.loaders.proposal_changes.load(root.id)
        return [FieldChange(path=c.path, before=c.before, after=c.after) for c in rows]

    @strawberry.field
    async def reviews(self, root: strawberry.Parent[models.Proposal], info: Ctx) -> list[Review]:
        return await info.context.loaders.proposal_reviews.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    async def comments(self, root: strawberry.Parent[models.Proposal], info: Ctx) -> list[CommentType]:
        return await info.context.loaders.proposal_comments.load(root.id)  # type: ignore[return-value]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Proposal)


@strawberry.type(name="Comment")
class CommentType(Node):
    body: str
    created_at: dt.datetime

    @strawberry.field
    async def author(self, root: strawberry.Parent[models.Comment], info: Ctx) -> UserType:
        return await info.context.loaders.user.load(root.author_id)  # type: ignore[return-value]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Comment)


@strawberry.type(name="Event")
class EventType(Node):
    kind: str

    @strawberry.field
    async def actor(self, root: strawberry.Parent[models.Event], info: Ctx) -> UserType | None:
        if root.actor_id is None:
            return None
        return await info.context.loaders.user.load(root.actor_id)  # type: ignore[return-value]

    @strawberry.field
    def at(self, root: strawberry.Parent[models.Event]) -> dt.datetime:
        return root.created_at

    @strawberry.field
    def changes(self, root: strawberry.Parent[models.Event]) -> list[FieldChange]:
        return [
            FieldChange(path=str(c.get("path", "")), before=c.get("before"), after=c.get("after")) for c in root.changes
        ]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Event)


@strawberry.type(name="Notification")
class NotificationType(Node):
    kind: str
    message: str
    created_at: dt.datetime

    @strawberry.field
    def read(self, root: strawberry.Parent[models.Notification]) -> bool:
        return root.read_at is not None

    @strawberry.field
    async def subject(self, root: strawberry.Parent[models.Notification], info: Ctx) -> Node | None:
        from schema.queries import resolve_node

        if root.subject_type is None or root.subject_id is None:
            return None
        found: Node | None = await resolve_node(info, root.subject_type, root.subject_id)
        return found

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, models.Notification)


NODE_TYPES: tuple[type, ...] = (
    UserType,
    TeamType,
    CycleType,
    ObjectiveType,
    KeyResultType,
    CheckInType,
    InitiativeType,
    ProposalType,
    CommentType,
    EventType,
    NotificationType,
)

# Imported last: schema.figures builds on the types above (LintFinding), and the synchronous figure
# fields call into it thousands of times per tree, too often for an import inside each call.
import schema.figures as figure_fields  # noqa: E402
