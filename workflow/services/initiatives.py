"""Initiatives and experiments: the work that drives a key result."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models, permissions
from workflow.enums import InitiativeKind
from workflow.errors import Forbidden, ValidationFailed
from workflow.services.events import change, record_event
from workflow.services.key_results import load_key_result
from workflow.services.objectives import clean_title
from workflow.viewer import Viewer

URL_MAX = 2000


def clean_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    # Only web links: a javascript: or data: URL would run in every reader's browser.
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > URL_MAX:
        raise ValidationFailed("Link an http(s) URL.", "url")
    return url


async def add_initiative(
    session: AsyncSession, viewer: Viewer, *, key_result_id: int, kind: InitiativeKind, title: str, url: str | None
) -> models.Initiative:
    kr, objective = await load_key_result(session, viewer, key_result_id, field_name="keyResultId")
    if not permissions.may_check_in(viewer, objective, kr):
        raise Forbidden("The owning team, the owners and execs add initiatives to this key result.")
    initiative = models.Initiative(
        organization_id=kr.organization_id,
        key_result_id=kr.id,
        kind=kind,
        title=clean_title(title),
        url=clean_url(url),
    )
    session.add(initiative)
    await session.flush()
    await record_event(
        session,
        organization_id=kr.organization_id,
        actor=viewer,
        kind="initiative.added",
        subject_type="Initiative",
        subject_id=initiative.id,
        objective_id=objective.id,
        cycle_id=objective.cycle_id,
        changes=[change("initiatives", None, initiative.title)],
    )
    return initiative
