"""Discussion on objectives and proposals; a comment inherits its objective's visibility."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.errors import Forbidden, ValidationFailed
from workflow.services.events import change, record_event
from workflow.services.objectives import load_objective
from workflow.services.proposals import load_proposal
from workflow.viewer import Viewer

BODY_MAX = 10_000


async def add_comment(
    session: AsyncSession, viewer: Viewer, *, body: str, objective_id: int | None = None, proposal_id: int | None = None
) -> models.Comment:
    """On an objective, or on a proposal (then it is also filed under the proposal's objective)."""
    if proposal_id is not None:
        proposal = await load_proposal(session, viewer, proposal_id, field_name="subjectId")
        objective_id = proposal.objective_id
    assert objective_id is not None
    objective = await load_objective(session, viewer, objective_id, field_name="subjectId")
    if not viewer.can_write:
        raise Forbidden("This account may only read.")
    body = body.strip()
    if not body:
        raise ValidationFailed("A comment needs a body.", "body")
    if len(body) > BODY_MAX:
        raise ValidationFailed(f"Keep comments under {BODY_MAX} characters.", "body")
    comment = models.Comment(
        organization_id=objective.organization_id,
        objective_id=objective.id,
        proposal_id=proposal_id,
        author_id=viewer.user_id,
        body=body,
    )
    session.add(comment)
    await session.flush()
    await record_event(
        session,
        organization_id=objective.organization_id,
        actor=viewer,
        kind="comment.added",
        subject_type="Proposal" if proposal_id is not None else "Objective",
        subject_id=proposal_id if proposal_id is not None else objective.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        changes=[change("comments", None, body)],
    )
    return comment
