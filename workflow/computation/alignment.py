"""The alignment tree of a cycle (DESIGN §3): company objectives at the roots, children by parent.

Built in bulk: five statements whatever the size of the organization (its cycles, its teams, the
ancestor chain of the visible objectives, the visible objectives, their key results), then one
O(N) pass in Python. The only rows read without the visibility predicate are the ancestor chain's
ids and parent ids, and those become redacted nodes: an objective the viewer may not see shows up
as an id with `restricted` set, never with its title or figures (DESIGN §4).

Scope: every visible objective of the cycle, plus the aligned objectives of the cycles it encloses
(at any depth, e.g. the quarters of a year) whose chain leads up into this cycle or an enclosing
one, plus the ancestors of those from enclosing cycles so the roots are the company objectives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from workflow.enums import ObjectiveStatus
from workflow.models import Cycle, KeyResult, Objective, Team
from workflow.policies import objective_visible
from workflow.viewer import Viewer, descendants


@dataclass(frozen=True)
class TreeNode:
    id: int
    # The parent within this tree; None for a root even when the objective has a parent elsewhere.
    parent_id: int | None
    depth: int
    restricted: bool


@dataclass(frozen=True)
class Shape:
    """What the tree needs of one objective; hidden ones carry nothing else."""

    id: int
    parent_id: int | None
    cycle_id: int
    owner_team_id: int | None
    visible: bool


def pre_order(shapes: Mapping[int, Shape]) -> list[TreeNode]:
    """Depth-first, children by id. A node whose parent is not among `shapes` is a root.

    Parent links are refused when they would loop (services guard realignment), but a loop in
    stored data must not hang a read: its lowest visible id is then taken as a root.
    """
    children: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    for shape in sorted(shapes.values(), key=lambda s: s.id):
        if shape.parent_id is not None and shape.parent_id in shapes and shape.parent_id != shape.id:
            children[shape.parent_id].append(shape.id)
        else:
            roots.append(shape.id)
    out: list[TreeNode] = []
    placed: set[int] = set()

    def walk(root: int) -> None:
        stack: list[tuple[int, int | None, int]] = [(root, None, 0)]
        while stack:
            node, parent, depth = stack.pop()
            if node in placed:
                continue
            placed.add(node)
            out.append(TreeNode(node, parent, depth, not shapes[node].visible))
            stack.extend((child, node, depth + 1) for child in reversed(children[node]))

    for root in roots:
        walk(root)
    # Preferably at a visible objective, so a redacted node never tops a tree it was not on top of.
    for leftover in sorted(shapes, key=lambda i: (not shapes[i].visible, i)):
        if leftover not in placed:
            walk(leftover)
    return out


def keep_trees(nodes: Sequence[TreeNode], keep_root: Iterable[int]) -> list[TreeNode]:
    """Only the trees whose root is in `keep_root` (pre-order makes each tree a contiguous run)."""
    wanted = set(keep_root)
    kept: list[TreeNode] = []
    keeping = False
    for node in nodes:
        if node.depth == 0:
            keeping = node.id in wanted
        if keeping:
            kept.append(node)
    return kept


def subtree_of_teams(shapes: Mapping[int, Shape], team_ids: set[int]) -> dict[int, Shape]:
    """Visible objectives owned by `team_ids` and everything aligned below them.

    Hidden objectives are kept only between two kept objectives, so a restricted node never hints
    at which team owns an objective the viewer cannot see.
    """
    children: dict[int, list[int]] = defaultdict(list)
    for shape in shapes.values():
        if shape.parent_id is not None:
            children[shape.parent_id].append(shape.id)
    kept: set[int] = set()
    stack = [s.id for s in shapes.values() if s.visible and s.owner_team_id in team_ids]
    while stack:
        node = stack.pop()
        if node in kept:
            continue
        kept.add(node)
        stack.extend(children[node])
    # Drop hidden leaves (and hidden chains ending in nothing visible) left at the bottom.
    has_visible_below: dict[int, bool] = {}
    for tree_node in pre_order({i: shapes[i] for i in kept})[::-1]:
        below = any(has_visible_below.get(c, False) for c in children[tree_node.id] if c in kept)
        has_visible_below[tree_node.id] = below or not tree_node.restricted
    return {i: shapes[i] for i in kept if has_visible_below[i]}


@dataclass(frozen=True)
class Coverage:
    team_objectives: int
    aligned: int
    orphans: int
    max_depth: int


def coverage(
    nodes: Sequence[TreeNode], objectives: Mapping[int, Objective], cycle_id: int, company_teams: set[int]
) -> Coverage:
    """Over the visible objectives of the cycle itself below company level: how many are aligned."""
    below_company = [
        objectives[n.id]
        for n in nodes
        if not n.restricted
        and objectives[n.id].cycle_id == cycle_id
        and (objectives[n.id].owner_user_id is not None or objectives[n.id].owner_team_id not in company_teams)
    ]
    aligned = sum(1 for o in below_company if o.parent_id is not None)
    return Coverage(
        team_objectives=len(below_company),
        aligned=aligned,
        orphans=len(below_company) - aligned,
        max_depth=max((n.depth for n in nodes), default=0),
    )


@dataclass
class AlignmentTree:
    nodes: list[TreeNode]
    coverage: Coverage
    # Every row read, for the caller to prime its dataloaders with.
    objectives: dict[int, Objective] = field(default_factory=dict)
    key_results: dict[int, list[KeyResult]] = field(default_factory=dict)
    cycles: list[Cycle] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    # Objectives whose visible children are all in `objectives` (children may only sit in the same
    # or an enclosed cycle, and every enclosed cycle is in scope).
    complete_children: dict[int, list[Objective]] = field(default_factory=dict)


def live_descendants(
    complete_children: Mapping[int, Sequence[Objective]], budget: int
) -> dict[int, list[Objective]] | None:
    """For each objective, its non-cancelled descendants reached through non-cancelled children.

    What aligned progress needs, from children lists already read. The lists together hold up to
    depth x N rows, so past `budget` rows this gives up (None) and the caller reads them instead.
    """
    found: dict[int, list[Objective]] = {}
    total = 0
    for root in complete_children:
        below: list[Objective] = []
        seen = {root}
        stack = [root]
        while stack:
            for child in complete_children.get(stack.pop(), ()):
                if child.id in seen or child.status == ObjectiveStatus.CANCELLED:
                    continue
                seen.add(child.id)
                below.append(child)
                stack.append(child.id)
        total += len(below)
        if total > budget:
            return None
        found[root] = sorted(below, key=lambda o: o.id)
    return found


async def build_alignment_tree(
    session: AsyncSession, viewer: Viewer, cycle_id: int, root_team_id: int | None = None
) -> AlignmentTree | None:
    """The viewer's alignment tree of a cycle; None when the cycle is not the viewer's organization's."""
    org = viewer.organization_id
    cycles = list((await session.execute(select(Cycle).where(Cycle.organization_id == org))).scalars())
    if cycle_id not in {c.id for c in cycles}:
        return None
    enclosed = descendants({c.id: c.parent_id for c in cycles}, {cycle_id}) - {cycle_id}
    teams = list((await session.execute(select(Team).where(Team.organization_id == org))).scalars())
    company_teams = {t.id for t in teams if t.parent_id is None}

    in_scope = or_(
        Objective.cycle_id == cycle_id,
        and_(Objective.cycle_id.in_(enclosed), Objective.parent_id.is_not(None)) if enclosed else false(),
    )

    def scoped(of_cycle: int, parent_id: int | None) -> bool:
        return of_cycle == cycle_id or (of_cycle in enclosed and parent_id is not None)

    # The ancestor chain of every visible in-scope objective, ids only, visible or not.
    parent = aliased(Objective)
    chain = (
        select(Objective.id, Objective.parent_id, Objective.cycle_id, Objective.owner_team_id)
        .where(
            Objective.organization_id == org,
            Objective.id.in_(
                select(Objective.parent_id).where(in_scope, objective_visible(viewer), Objective.parent_id.is_not(None))
            ),
        )
        .cte("ancestors", recursive=True)
    )
    chain = chain.union(
        select(parent.id, parent.parent_id, parent.cycle_id, parent.owner_team_id)
        .join(chain, parent.id == chain.c.parent_id)
        .where(parent.organization_id == org)
    )
    ancestors = {row.id: row for row in (await session.execute(select(chain))).all()}
    outside = [a.id for a in ancestors.values() if not scoped(a.cycle_id, a.parent_id)]

    wanted = or_(in_scope, Objective.id.in_(outside)) if outside else in_scope
    visible = {
        o.id: o
        for o in (
            await session.execute(select(Objective).where(wanted, objective_visible(viewer)).order_by(Objective.id))
        ).scalars()
    }

    shapes: dict[int, Shape] = {
        a.id: Shape(a.id, a.parent_id, a.cycle_id, a.owner_team_id, visible=False) for a in ancestors.values()
    }
    for o in visible.values():
        shapes[o.id] = Shape(o.id, o.parent_id, o.cycle_id, o.owner_team_id, visible=True)

    if root_team_id is not None:
        subtree = descendants({t.id: t.parent_id for t in teams}, {root_team_id})
        shapes = subtree_of_teams(shapes, subtree)
    nodes = pre_order(shapes)
    # Trees rooted in an enclosed cycle never reach this one: they belong to that cycle's tree.
    nodes = keep_trees(nodes, (n.id for n in nodes if n.depth == 0 and shapes[n.id].cycle_id not in enclosed))

    in_tree = {n.id for n in nodes if not n.restricted}
    key_results: dict[int, list[KeyResult]] = {i: [] for i in visible}
    if visible:
        rows = await session.execute(
            select(KeyResult)
            .where(KeyResult.objective_id.in_(list(visible)), KeyResult.removed.is_(False))
            .order_by(KeyResult.objective_id, KeyResult.position, KeyResult.id)
        )
        for kr in rows.scalars():
            key_results[kr.objective_id].append(kr)

    complete_children: dict[int, list[Objective]] = {
        i: [] for i, o in visible.items() if scoped(o.cycle_id, o.parent_id)
    }
    for o in visible.values():
        if o.parent_id in complete_children and scoped(o.cycle_id, o.parent_id):
            complete_children[o.parent_id].append(o)

    return AlignmentTree(
        nodes=nodes,
        coverage=coverage(nodes, visible, cycle_id, company_teams),
        objectives={i: visible[i] for i in in_tree},
        key_results=key_results,
        cycles=cycles,
        teams=teams,
        complete_children=complete_children,
    )


async def visible_descendants(
    session: AsyncSession, viewer: Viewer, roots: Sequence[int]
) -> tuple[dict[int, list[Objective]], dict[int, list[KeyResult]]]:
    """Visible, live objectives aligned below each root, at any depth, and their key results.

    Two statements whatever the depth. The recursion follows parent links only, so each step is an
    index lookup on `parent_id` (with visibility inside the recursion SQLite's planner, lacking
    statistics, may take the organization index instead and go quadratic); visibility is then
    applied to the rows returned. A visible objective below a hidden or cancelled one still comes
    back, but it is unreachable from its root through what was returned, and callers walk from
    the root, so a hidden child's subtree counts for nothing, as with the children loader.
    """
    below = (
        select(Objective.id, Objective.parent_id.label("root"))
        .where(Objective.parent_id.in_(list(roots)))
        .cte("below", recursive=True)
    )
    below = below.union(select(Objective.id, below.c.root).join(below, Objective.parent_id == below.c.id))
    rows = await session.execute(
        select(Objective, below.c.root)
        .join(below, below.c.id == Objective.id)
        .where(Objective.status != ObjectiveStatus.CANCELLED, objective_visible(viewer))
        .order_by(Objective.id)
    )
    found: dict[int, list[Objective]] = {root: [] for root in roots}
    for objective, root in rows.tuples().all():
        found[root].append(objective)
    ids = {o.id for below_root in found.values() for o in below_root}
    key_results: dict[int, list[KeyResult]] = {i: [] for i in ids}
    if ids:
        krs = await session.execute(
            select(KeyResult)
            .where(KeyResult.objective_id.in_(ids), KeyResult.removed.is_(False))
            .order_by(KeyResult.objective_id, KeyResult.position, KeyResult.id)
        )
        for kr in krs.scalars():
            key_results[kr.objective_id].append(kr)
    return found, key_results
