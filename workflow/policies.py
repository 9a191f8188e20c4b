"""Visibility (DESIGN §4) as one SQL predicate per viewer, applied inside every read.

Nothing is filtered after fetching: list, tree, `node(id)`, search, export and subscriptions all
put `objective_visible(viewer)` in their WHERE clause, so an invisible objective and a missing one
read the same. Children (key results, check-ins, proposals, comments, events, notifications)
inherit it through `visible_objective_ids(viewer)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from workflow.enums import CyclePhase, ObjectiveOrigin, ObjectiveStatus, Role, Visibility
from workflow.models import Cycle, Objective
from workflow.viewer import Viewer

UNDER_NEGOTIATION = (ObjectiveStatus.DRAFT, ObjectiveStatus.IN_REVIEW)
LIVE_OR_LATER = (ObjectiveStatus.ACTIVE, ObjectiveStatus.COMPLETED)


def _planning_cycles(viewer: Viewer) -> Select[Any]:
    return select(Cycle.id).where(Cycle.organization_id == viewer.organization_id, Cycle.phase == CyclePhase.PLANNING)


def objective_visible(viewer: Viewer) -> ColumnElement[bool]:
    in_org = Objective.organization_id == viewer.organization_id
    if viewer.is_exec:
        return in_org
    if viewer.role == Role.VIEWER:
        return and_(
            in_org,
            Objective.visibility == Visibility.ORGANIZATION,
            Objective.status.in_(LIVE_OR_LATER),
        )

    leads = tuple(viewer.lead_team_ids)
    is_owner = or_(Objective.owner_user_id == viewer.user_id, Objective.author_id == viewer.user_id)
    leads_owning_team = Objective.owner_team_id.in_(leads) if leads else false()
    reachable = tuple(viewer.reachable_team_ids)

    by_visibility = or_(
        Objective.visibility == Visibility.ORGANIZATION,
        and_(
            Objective.visibility == Visibility.TEAM,
            Objective.owner_team_id.in_(reachable) if reachable else false(),
        ),
        is_owner,
        leads_owning_team,
    )
    negotiation_ok = or_(Objective.status.not_in(UNDER_NEGOTIATION), is_owner, leads_owning_team)
    # Exec drafts stay with the execs until the cycle opens negotiation.
    not_hidden_exec_draft = or_(
        Objective.origin != ObjectiveOrigin.EXEC,
        Objective.cycle_id.not_in(_planning_cycles(viewer)),
        Objective.author_id == viewer.user_id,
    )
    return and_(in_org, by_visibility, negotiation_ok, not_hidden_exec_draft, true())


def visible_objective_ids(viewer: Viewer) -> Select[Any]:
    """For children of objectives: `X.objective_id.in_(visible_objective_ids(viewer))`."""
    return select(Objective.id).where(objective_visible(viewer))
