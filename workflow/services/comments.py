"""Discussion on objectives and proposals; a comment inherits its objective's visibility."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.errors import Forbidden, ValidationFailed
from workflow.policies import objective_visible
from workflow.services.events import change, notify, record_event
from workflow.services.objectives import load_objective
from workflow.services.proposals import load_proposal
from workflow.viewer import Viewer, load_viewer

BODY_MAX = 10_000
# "@grace" (the local part of a colleague's email) or "@grace@acme.test"; not the middle of an address.
MENTION = re.compile(r"(?<![\w.@])@([a-z0-9._%+-]+(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.IGNORECASE)
# A comment naming the whole company is a broadcast, not a mention; beyond this many we stop notifying.
MAX_MENTIONS = 10


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
    await _notify_mentioned(session, viewer, objective, comment)
    return comment


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _notify_mentioned(
    session: AsyncSession, viewer: Viewer, objective: models.Objective, comment: models.Comment
) -> None:
    """Mentioned colleagues are notified only if they may see the objective: a mention never leaks one."""
    handles = list(dict.fromkeys(h.lower().rstrip(".") for h in MENTION.findall(comment.body)))[:MAX_MENTIONS]
    if not handles:
        return
    email = func.lower(models.User.email)
    matches = [email == h if "@" in h else email.like(f"{_like_literal(h)}@%", escape="\\") for h in handles]
    mentioned = (
        await session.execute(
            select(models.User.id)
            .join(models.Membership, models.Membership.user_id == models.User.id)
            .where(models.Membership.organization_id == objective.organization_id, or_(*matches))
        )
    ).scalars()
    recipients = []
    for user_id in mentioned:
        if user_id == viewer.user_id:
            continue
        colleague = await load_viewer(session, user_id, objective.organization_id)
        if colleague is None:
            continue
        sees_it = await session.scalar(
            select(models.Objective.id).where(models.Objective.id == objective.id, objective_visible(colleague))
        )
        if sees_it is not None:
            recipients.append(user_id)
    where = "a proposal on " if comment.proposal_id is not None else ""
    await notify(
        session,
        organization_id=objective.organization_id,
        user_ids=recipients,
        kind="mentioned",
        message=f"{viewer.name or viewer.email} mentioned you on {where}“{objective.title}”: {comment.body[:200]}",
        subject_type="Objective",
        subject_id=objective.id,
        objective_id=objective.id,
        skip_user_id=viewer.user_id,
    )
