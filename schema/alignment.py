"""The `alignmentTree` query part: the cycle's objectives in pre-order, computed in bulk."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id, decode_optional, to_global_id
from schema.types import ObjectiveType
from workflow import models
from workflow.computation.alignment import build_alignment_tree, live_descendants

Ctx = Info[Context, None]


@strawberry.type
class AlignmentNode:
    id: strawberry.ID
    parent_id: strawberry.ID | None = strawberry.field(
        description="The parent in this tree; null for a root (the objective's own parent may lie outside)."
    )
    depth: int
    restricted: bool = strawberry.field(description="An ancestor the viewer may not see: only its id is given.")
    row: strawberry.Private[models.Objective | None]

    @strawberry.field(description="Null when restricted.")
    def objective(self) -> ObjectiveType | None:
        return self.row  # type: ignore[return-value]


@strawberry.type
class AlignmentCoverage:
    team_objectives: int = strawberry.field(description="Visible objectives of the cycle below company level.")
    aligned: int = strawberry.field(description="Of those, how many have a parent objective.")
    orphans: int = strawberry.field(description="Of those, how many have none.")
    max_depth: int = strawberry.field(description="Depth of the deepest node; roots are at 0.")


@strawberry.type
class AlignmentTree:
    nodes: list[AlignmentNode] = strawberry.field(description="Pre-order: every parent before its children.")
    coverage: AlignmentCoverage


def _objective_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Objective", pk))


@strawberry.type
class AlignmentQueries:
    @strawberry.field(description="The cycle's alignment tree; rootTeamId keeps that team's subtree only.")
    async def alignment_tree(
        self, info: Ctx, cycle_id: strawberry.ID, root_team_id: strawberry.ID | None = None
    ) -> AlignmentTree:
        cycle_pk = decode_id(cycle_id, "Cycle", "cycleId")
        team_pk = decode_optional(root_team_id, "Team", "rootTeamId")
        session = await info.context.session()
        tree = await build_alignment_tree(session, info.context.viewer, cycle_pk, team_pk)
        if tree is None:
            return AlignmentTree(
                nodes=[], coverage=AlignmentCoverage(team_objectives=0, aligned=0, orphans=0, max_depth=0)
            )
        # Nested fields on the nodes (progress, health, key results, children...) read these, not the database.
        loaders = info.context.loaders
        loaders.prime_objectives(tree.objectives.values())
        for objective_id, krs in tree.key_results.items():
            loaders.key_results_by_objective.prime(objective_id, krs)
        for objective_id, children in tree.complete_children.items():
            loaders.objective_children.prime(objective_id, children)
        # Aligned progress walks whole subtrees; for the usual shallow trees they are at hand too.
        below = live_descendants(tree.complete_children, budget=20 * len(tree.nodes) + 100)
        for objective_id, descendants in (below or {}).items():
            loaders.aligned_descendants.prime(objective_id, descendants)
        for cycle in tree.cycles:
            loaders.cycle.prime(cycle.id, cycle)
        for team in tree.teams:
            loaders.team.prime(team.id, team)
        return AlignmentTree(
            nodes=[
                AlignmentNode(
                    id=_objective_id(node.id),
                    parent_id=None if node.parent_id is None else _objective_id(node.parent_id),
                    depth=node.depth,
                    restricted=node.restricted,
                    row=None if node.restricted else tree.objectives[node.id],
                )
                for node in tree.nodes
            ],
            coverage=AlignmentCoverage(
                team_objectives=tree.coverage.team_objectives,
                aligned=tree.coverage.aligned,
                orphans=tree.coverage.orphans,
                max_depth=tree.coverage.max_depth,
            ),
        )


__all__ = ["AlignmentQueries"]
