"""Per-request dataloaders: one per entity and key, each a single statement per batch.

Every loader that returns objectives, or things that hang off objectives, puts the viewer's
visibility predicate inside its WHERE clause (DESIGN §4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from workflow import enums, models
from workflow.computation.alignment import visible_descendants
from workflow.enums import Role
from workflow.policies import objective_visible, visible_objective_ids
from workflow.viewer import Viewer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Row = Any


class NotLoaded:
    """What `peek` answers for a key its loader has not resolved yet."""


NOT_LOADED: Final = NotLoaded()


def peek(loader: DataLoader[K, V], key: K) -> V | NotLoaded:
    """The value `loader` already holds for `key`, without scheduling anything.

    Rows a bulk read primed (the alignment tree, a list query) are resolved futures in the loader's
    cache; reading them synchronously lets a field resolver return a value instead of an awaitable,
    and graphql-core then completes the whole subtree without a task or a gather per field.
    """
    future = loader.cache_map.get(key) if loader.cache else None
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return NOT_LOADED
    return future.result()


def deferred(awaitable: Awaitable[V]) -> V:
    """A resolver's awaitable result, typed as the value graphql-core will await it into."""
    return awaitable  # type: ignore[return-value]


def soon(loader: DataLoader[K, V], key: K) -> V:
    """The loaded value when it is at hand, else the loader's future: graphql-core awaits it."""
    found = peek(loader, key)
    if isinstance(found, NotLoaded):
        return deferred(loader.load(key))
    return found


def _by_key(rows: Iterable[Row], keys: Sequence[K], key_of: Callable[[Row], K]) -> list[Row | None]:
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


def _grouped(rows: Iterable[Row], keys: Sequence[K], key_of: Callable[[Row], K]) -> list[list[Row]]:
    groups: dict[K, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


@dataclass(frozen=True)
class VisibilityPredicates:
    """The viewer's visibility rule as the SQL fragments the loaders put in their WHERE clauses."""

    objective: ColumnElement[bool]
    objective_ids: Select[Any]
    key_result_ids: Select[Any]
    proposal_ids: Select[Any]


@lru_cache(maxsize=512)
def visibility(viewer: Viewer) -> VisibilityPredicates:
    """Built once per distinct viewer, not per request: constructing the predicate (aliases,
    sub-selects) cost more than the one-row statement it filters. The fragments are immutable SQL
    expressions and a pure function of the viewer's fields, so equal viewers share them."""
    objective_ids = visible_objective_ids(viewer)
    return VisibilityPredicates(
        objective=objective_visible(viewer),
        objective_ids=objective_ids,
        key_result_ids=select(models.KeyResult.id).where(models.KeyResult.objective_id.in_(objective_ids)),
        proposal_ids=select(models.Proposal.id).where(models.Proposal.objective_id.in_(objective_ids)),
    )


class Loaders:
    """Built once per request; never shared, so caches never outlive one viewer's request."""

    def __init__(self, session_factory: Callable[[], Awaitable[AsyncSession]], viewer: Viewer) -> None:
        self._session = session_factory
        self.viewer = viewer
        # Figures of objectives computed in this request, by id (schema/figures.py): progress,
        # health and color of one node share one computation. Dropped with the loaders after a write.
        self.objective_figures: dict[int, Any] = {}
        org = viewer.organization_id

        self._all: list[DataLoader[Any, Any]] = []

        def loader(fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
            built: DataLoader[K, V] = DataLoader(load_fn=fn)
            self._all.append(built)
            return built

        async def rows(stmt: Select[Any]) -> Sequence[Any]:
            session = await self._session()
            return list((await session.execute(stmt)).scalars().all())

        predicates = visibility(viewer)
        # Children repeat the visibility predicate even when reached from a visible parent: an
        # objective can also arrive from a mutation payload, and a sub-select costs no statement.
        visible_objective = predicates.objective
        visible = predicates.objective_ids
        visible_key_results = predicates.key_result_ids
        visible_proposals = predicates.proposal_ids

        async def objectives(ids: list[int]) -> list[models.Objective | None]:
            stmt = select(models.Objective).where(models.Objective.id.in_(ids), visible_objective)
            return _by_key(await rows(stmt), ids, lambda o: o.id)

        async def children(ids: list[int]) -> list[list[models.Objective]]:
            stmt = (
                select(models.Objective)
                .where(models.Objective.parent_id.in_(ids), visible_objective)
                .order_by(models.Objective.id)
            )
            return _grouped(await rows(stmt), ids, lambda o: o.parent_id)

        async def key_results(ids: list[int]) -> list[models.KeyResult | None]:
            stmt = select(models.KeyResult).where(
                models.KeyResult.id.in_(ids),
                models.KeyResult.removed.is_(False),
                models.KeyResult.objective_id.in_(visible),
            )
            return _by_key(await rows(stmt), ids, lambda k: k.id)

        async def key_results_by_objective(ids: list[int]) -> list[list[models.KeyResult]]:
            stmt = (
                select(models.KeyResult)
                .where(
                    models.KeyResult.objective_id.in_(ids),
                    models.KeyResult.removed.is_(False),
                    models.KeyResult.objective_id.in_(visible),
                )
                .order_by(models.KeyResult.objective_id, models.KeyResult.position, models.KeyResult.id)
            )
            return _grouped(await rows(stmt), ids, lambda k: k.objective_id)

        async def cycles(ids: list[int]) -> list[models.Cycle | None]:
            stmt = select(models.Cycle).where(models.Cycle.id.in_(ids), models.Cycle.organization_id == org)
            return _by_key(await rows(stmt), ids, lambda c: c.id)

        async def teams(ids: list[int]) -> list[models.Team | None]:
            stmt = select(models.Team).where(models.Team.id.in_(ids), models.Team.organization_id == org)
            return _by_key(await rows(stmt), ids, lambda t: t.id)

        async def team_children(ids: list[int]) -> list[list[models.Team]]:
            stmt = (
                select(models.Team)
                .where(models.Team.parent_id.in_(ids), models.Team.organization_id == org)
                .order_by(models.Team.name, models.Team.id)
            )
            return _grouped(await rows(stmt), ids, lambda t: t.parent_id)

        async def users(ids: list[int]) -> list[models.User | None]:
            stmt = (
                select(models.User)
                .join(models.Membership, models.Membership.user_id == models.User.id)
                .where(models.User.id.in_(ids), models.Membership.organization_id == org)
            )
            return _by_key(await rows(stmt), ids, lambda u: u.id)

        async def roles(ids: list[int]) -> list[Role | None]:
            session = await self._session()
            result = await session.execute(
                select(models.Membership.user_id, models.Membership.role).where(
                    models.Membership.user_id.in_(ids), models.Membership.organization_id == org
                )
            )
            found = {user_id: Role(role) for user_id, role in result.all()}
            return [found.get(i) for i in ids]

        async def team_memberships(ids: list[int]) -> list[list[models.TeamMember]]:
            stmt = (
                select(models.TeamMember)
                .where(models.TeamMember.team_id.in_(ids), models.TeamMember.organization_id == org)
                .order_by(models.TeamMember.id)
            )
            return _grouped(await rows(stmt), ids, lambda m: m.team_id)

        async def user_memberships(ids: list[int]) -> list[list[models.TeamMember]]:
            stmt = (
                select(models.TeamMember)
                .where(models.TeamMember.user_id.in_(ids), models.TeamMember.organization_id == org)
                .order_by(models.TeamMember.id)
            )
            return _grouped(await rows(stmt), ids, lambda m: m.user_id)

        async def initiatives(ids: list[int]) -> list[list[models.Initiative]]:
            stmt = (
                select(models.Initiative)
                .where(
                    models.Initiative.key_result_id.in_(ids),
                    models.Initiative.organization_id == org,
                    models.Initiative.key_result_id.in_(visible_key_results),
                )
                .order_by(models.Initiative.id)
            )
            return _grouped(await rows(stmt), ids, lambda i: i.key_result_id)

        async def proposals_by_objective(ids: list[int]) -> list[list[models.Proposal]]:
            stmt = (
                select(models.Proposal)
                .where(
                    models.Proposal.objective_id.in_(ids),
                    models.Proposal.organization_id == org,
                    models.Proposal.objective_id.in_(visible),
                )
                .order_by(models.Proposal.id)
            )
            return _grouped(await rows(stmt), ids, lambda p: p.objective_id)

        async def proposals(ids: list[int]) -> list[models.Proposal | None]:
            stmt = select(models.Proposal).where(models.Proposal.id.in_(ids), models.Proposal.objective_id.in_(visible))
            return _by_key(await rows(stmt), ids, lambda p: p.id)

        async def proposal_changes(ids: list[int]) -> list[list[models.ProposalChange]]:
            stmt = (
                select(models.ProposalChange)
                .where(
                    models.ProposalChange.proposal_id.in_(ids),
                    models.ProposalChange.proposal_id.in_(visible_proposals),
                )
                .order_by(models.ProposalChange.position, models.ProposalChange.id)
            )
            return _grouped(await rows(stmt), ids, lambda c: c.proposal_id)

        async def proposal_reviews(ids: list[int]) -> list[list[models.ProposalReview]]:
            stmt = (
                select(models.ProposalReview)
                .where(
                    models.ProposalReview.proposal_id.in_(ids),
                    models.ProposalReview.proposal_id.in_(visible_proposals),
                )
                .order_by(models.ProposalReview.id)
            )
            return _grouped(await rows(stmt), ids, lambda r: r.proposal_id)

        async def objective_comments(ids: list[int]) -> list[list[models.Comment]]:
            stmt = (
                select(models.Comment)
                .where(
                    models.Comment.objective_id.in_(ids),
                    models.Comment.proposal_id.is_(None),
                    models.Comment.objective_id.in_(visible),
                )
                .order_by(models.Comment.id)
            )
            return _grouped(await rows(stmt), ids, lambda c: c.objective_id)

        async def proposal_comments(ids: list[int]) -> list[list[models.Comment]]:
            stmt = (
                select(models.Comment)
                .where(models.Comment.proposal_id.in_(ids), models.Comment.objective_id.in_(visible))
                .order_by(models.Comment.id)
            )
            return _grouped(await rows(stmt), ids, lambda c: c.proposal_id)

        async def check_in_counts(ids: list[int]) -> list[int]:
            session = await self._session()
            result = await session.execute(
                select(models.CheckIn.key_result_id, func.count())
                .where(
                    models.CheckIn.key_result_id.in_(ids),
                    models.CheckIn.key_result_id.in_(visible_key_results),
                )
                .group_by(models.CheckIn.key_result_id)
            )
            found = dict(result.tuples().all())
            return [found.get(i, 0) for i in ids]

        async def check_in_pages(keys: list[tuple[int, int, int]]) -> list[list[models.CheckIn]]:
            # One statement for every (key result, offset, limit) asked for in this request.
            ranked = select(
                models.CheckIn,
                func.row_number()
                .over(
                    partition_by=models.CheckIn.key_result_id,
                    order_by=(models.CheckIn.measured_at, models.CheckIn.id),
                )
                .label("rank"),
            ).where(
                models.CheckIn.key_result_id.in_({k[0] for k in keys}),
                models.CheckIn.key_result_id.in_(visible_key_results),
            )
            sub = ranked.subquery()
            checkin = models.CheckIn.__table__
            last_rank = max(offset + limit for _, offset, limit in keys)
            session = await self._session()
            result = await session.execute(
                select(models.CheckIn, sub.c.rank)
                .join(sub, sub.c.id == checkin.c.id)
                .where(sub.c.rank <= last_rank)
                .order_by(sub.c.key_result_id, sub.c.rank)
            )
            by_kr: dict[int, list[tuple[int, models.CheckIn]]] = defaultdict(list)
            for check_in, rank in result.tuples().all():
                by_kr[check_in.key_result_id].append((rank, check_in))
            return [
                [c for rank, c in by_kr.get(kr, []) if offset < rank <= offset + limit] for kr, offset, limit in keys
            ]

        async def retrospectives(keys: list[tuple[int, int]]) -> list[models.Retrospective | None]:
            cycle_ids = {c for c, _ in keys}
            stmt = select(models.Retrospective).where(
                models.Retrospective.cycle_id.in_(cycle_ids), models.Retrospective.organization_id == org
            )
            return _by_key(await rows(stmt), keys, lambda r: (r.cycle_id, r.team_id))

        async def team_objective_counts(keys: list[tuple[int, int]]) -> list[int]:
            """(cycle, team) -> live objectives the viewer can see: the lint's "too many objectives"."""
            session = await self._session()
            result = await session.execute(
                select(models.Objective.cycle_id, models.Objective.owner_team_id, func.count())
                .where(
                    models.Objective.cycle_id.in_({c for c, _ in keys}),
                    models.Objective.owner_team_id.in_({t for _, t in keys}),
                    models.Objective.status != enums.ObjectiveStatus.CANCELLED,
                    visible_objective,
                )
                .group_by(models.Objective.cycle_id, models.Objective.owner_team_id)
            )
            found = {(c, t): n for c, t, n in result.tuples().all()}
            return [found.get(key, 0) for key in keys]

        self.objective = loader(objectives)
        self.objective_children = loader(children)
        self.key_result = loader(key_results)
        self.key_results_by_objective = loader(key_results_by_objective)
        self.cycle = loader(cycles)
        self.team = loader(teams)
        self.team_children = loader(team_children)
        self.user = loader(users)
        self.role = loader(roles)
        self.team_memberships = loader(team_memberships)
        self.user_memberships = loader(user_memberships)
        self.initiatives = loader(initiatives)
        self.proposal = loader(proposals)
        self.proposals_by_objective = loader(proposals_by_objective)
        self.proposal_changes = loader(proposal_changes)
        self.proposal_reviews = loader(proposal_reviews)
        self.objective_comments = loader(objective_comments)
        self.proposal_comments = loader(proposal_comments)
        self.check_in_count = loader(check_in_counts)
        self.check_in_page = loader(check_in_pages)
        self.retrospective = loader(retrospectives)
        self.team_objective_count = loader(team_objective_counts)

        async def aligned_descendants(ids: list[int]) -> list[list[models.Objective]]:
            # Their key results come along, so an aligned-progress rollup costs two statements in all.
            found, key_results = await visible_descendants(await self._session(), viewer, ids)
            for objective_id, krs in key_results.items():
                self.key_results_by_objective.prime(objective_id, krs)
            return [found[i] for i in ids]

        self.aligned_descendants = loader(aligned_descendants)

    def close(self) -> None:
        """Let go of every cached row and future. The loaders' functions close over this object, a
        cycle only the collector would free: emptied here, a request's rows (a whole-company tree
        holds hundreds of thousands of objects) go by reference counting the moment it ends."""
        for built in self._all:
            built.clear_all()
            built.batch = None  # the last batch's tasks hold its results too
        self.objective_figures.clear()

    def prime_objectives(self, objectives: Iterable[models.Objective]) -> None:
        """Objectives a list query already read (and filtered) need no second statement."""
        for objective in objectives:
            self.objective.prime(objective.id, objective)
