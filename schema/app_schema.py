"""The assembled strawberry schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.alignment import AlignmentQueries
from schema.exchange import ExchangeQueries
from schema.fast_fields import install_fast_resolvers
from schema.limits import SettledExecutionContext
from schema.lint import LintQueries
from schema.mutations import Mutation
from schema.queries import CoreQueries
from schema.read_plans import ReadPlans
from schema.retrospectives import RetrospectiveQueries
from schema.subscriptions import Subscription
from schema.types import NODE_TYPES
from schema.webhooks import WebhookQueries

# One class per domain, merged: each area adds its own part here.
QUERY_PARTS: tuple[type, ...] = (
    CoreQueries,
    RetrospectiveQueries,
    AlignmentQueries,
    LintQueries,
    WebhookQueries,
    ExchangeQueries,
)
Query = merge_types("Query", QUERY_PARTS)


def build_schema(extensions: Sequence[Any] = ()) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(NODE_TYPES),
        extensions=[ParserCache(maxsize=512), ValidationCache(maxsize=512), ReadPlans, *extensions],  # type: ignore[list-item]
        # Resolvers orphaned by a bubbling error finish before the request ends its transaction.
        execution_context_class=SettledExecutionContext,
    )
    install_fast_resolvers(schema)
    return schema


def sdl() -> str:
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["build_schema", "sdl"]
