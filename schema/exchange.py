"""Spreadsheet exchange in the API: a cycle exported as CSV or JSON text, and the sheet import."""

from __future__ import annotations

from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.context import Context
from schema.ids import decode_id
from workflow import exchange, models
from workflow.errors import NotFound

Ctx = Info[Context, None]


@strawberry.enum
class ExportFormat(Enum):
    CSV = "CSV"
    JSON = "JSON"


@strawberry.type
class ImportProblem:
    line: int
    reason: str


async def viewer_cycle(info: Ctx, cycle_id: strawberry.ID, field: str = "cycleId") -> models.Cycle:
    viewer = info.context.viewer
    session = await info.context.session()
    cycle = (
        await session.execute(
            select(models.Cycle).where(
                models.Cycle.id == decode_id(cycle_id, "Cycle", field),
                models.Cycle.organization_id == viewer.organization_id,
            )
        )
    ).scalar_one_or_none()
    if cycle is None:
        raise NotFound("cycle", field)
    return cycle


@strawberry.type
class ExchangeQueries:
    @strawberry.field(
        description="The cycle's objectives and key results the viewer can see, as the import sheet (CSV) or JSON."
    )
    async def export_cycle(self, info: Ctx, cycle_id: strawberry.ID, format: ExportFormat = ExportFormat.CSV) -> str:
        cycle = await viewer_cycle(info, cycle_id)
        session = await info.context.session()
        if format == ExportFormat.JSON:
            return await exchange.export_json(session, cycle, info.context.viewer)
        return await exchange.export_csv(session, cycle, info.context.viewer)
