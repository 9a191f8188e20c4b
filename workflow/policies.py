"""Visibility (DESIGN §4) as one SQL predicate per viewer, applied inside every read.

Nothing is filtered after fetching: list, tree, `node(id)`, search, export and subscriptions all
put `objective_visible(viewer)` in their WHERE clause, so an invisible objective and a missing one
read the same. Children (key results, check-ins, proposals, comments, events, notifications)
inherit it through `visible_objective_ids(viewer)`.

The rules, for a viewer who is not ADMIN or EXEC (those see their whole organization):
- an exec-drafted objective in a PLANNING cycle is for execs only;
- a VIEWER sees ORGANIZATION objectives that are ACTIVE or COMPLETED, nothing else;
- DRAFT and IN_REVIEW objectives are for their parties: author, owning user, owning team's leads
  (and, once submitted, the approvers: owners of the parent objective);
- otherwise ORGANIZATION is for every member, TEAM for members of the owning team and its
  ancestors, PRIVATE for the parties and approvers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import aliased

from workflow.enums import CyclePhase, ObjectiveOrigin, ObjectiveStatus, Role, Visibility
from workflow.models import Cycle, Objective
from workflow.viewer import Viewer

UNDER_NEGOTIATION = (ObjectiveStatus.DRAFT, ObjectiveStatus.IN_REVIEW)
LIVE_OR_LATER = (ObjectiveStatus.ACTIVE, ObjectiveStatus.COMPLETED)
# One alias for every predicate: building an alias populates its column collection, which cost more
# than the one-row statement the predicate filters. It only ever appears inside its own sub-select.
_PARENT = aliased(Objective, name="parent_objective")


def _planning_cycles(viewer: Viewer) -> Select[Any]:
    return select(Cycle.id).where(Cycle.organization_id == viewer.organization_id, Cycle.phase == CyclePhase.PLANNING)


def _owned_by_viewer(objective: Any, viewer: Viewer) -> ColumnElement[bool]:
    """The viewer owns `objective`: as its owning user, or as a lead of its owning team."""
    leads = tuple(viewer.lead_team_ids)
    return or_(
        objective.owner_user_id == viewer.user_id,
        objective.owner_team_id.in_(leads) if leads else false(),
    )


def objective_visible(viewer: Viewer) -> ColumnElement[bool]:
    in_org = Objective.organization_id == viewer.organization_id
    if viewer.is_exec:
        return in_org
    # Exec drafts stay with the execs until the cycle opens negotiation.
    not_hidden_exec_draft = or_(
        Objective.origin != ObjectiveOrigin.EXEC,
        Objective.cycle_id.not_in(_planning_cycles(viewer)),
    )
    if viewer.role == Role.VIEWER:
        return and_(
            in_org,
            not_hidden_exec_draft,
            Objective.visibility == Visibility.ORGANIZATION,
            Objective.status.in_(LIVE_OR_LATER),
        )

    party = or_(Objective.author_id == viewer.user_id, _owned_by_viewer(Objective, viewer))
    parent = _PARENT
    # Whoever owns the parent objective approves what aligns under it (see workflow.permissions).
    approver = Objective.parent_id.in_(
        select(parent.id).where(parent.organization_id == viewer.organization_id, _owned_by_viewer(parent, viewer))
    )
    reachable = tuple(viewer.reachable_team_ids)
    by_visibility = or_(
        Objective.visibility == Visibility.ORGANIZATION,
        and_(
            Objective.visibility == Visibility.TEAM,
            Objective.owner_team_id.in_(reachable) if reachable else false(),
        ),
        party,
        approver,
    )
    negotiation_ok = or_(
        Objective.status.not_in(UNDER_NEGOTIATION),
        party,
        and_(Objective.status == ObjectiveStatus.IN_REVIEW, approver),
    )
    return and_(in_org, not_hidden_exec_draft, by_visibility, negotiation_ok)


def visible_objective_ids(viewer: Viewer) -> Select[Any]:
    """For children of objectives: `X.objective_id.in_(visible_objective_ids(viewer))`."""
    return select(Objective.id).where(objective_visible(viewer))
