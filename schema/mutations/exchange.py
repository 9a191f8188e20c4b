"""Importing an OKR spreadsheet (the web app's upload)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.context import Context
from schema.exchange import ImportProblem, viewer_cycle
from schema.mutations.runner import run_mutation
from schema.types import UserError
from workflow import exchange
from workflow.viewer import Viewer

Ctx = Info[Context, None]


@strawberry.type
class ImportPayload:
    imported: bool
    objectives: int
    key_results: int
    problems: list[ImportProblem]
    user_errors: list[UserError]


@strawberry.type
class ExchangeMutations:
    @strawberry.mutation(
        description="Imports a sheet (objective, team, owner, key result, metric, start, target, unit, direction) "
        "as DRAFT objectives. Every bad row is reported; nothing is imported when any is bad unless skipBadRows."
    )
    async def import_csv(
        self, info: Ctx, cycle_id: strawberry.ID, csv: str, skip_bad_rows: bool = False
    ) -> ImportPayload:
        async def action(session: AsyncSession, viewer: Viewer) -> exchange.ImportReport:
            cycle = await viewer_cycle(info, cycle_id)
            return await exchange.import_csv(session, cycle=cycle, text=csv, actor=viewer, skip_bad_rows=skip_bad_rows)

        report, errors = await run_mutation(info, action)
        report = report or exchange.ImportReport()
        return ImportPayload(
            imported=report.imported,
            objectives=report.objectives,
            key_results=report.key_results,
            problems=[ImportProblem(line=p.line, reason=p.reason) for p in report.problems],
            user_errors=errors,
        )
