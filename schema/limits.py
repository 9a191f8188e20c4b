"""Query limits and error masking: what keeps one request from costing the server more than its share.

Every limit is checked while parsing or validating, so a refused document never reaches a resolver.
Depth, aliases and tokens use strawberry's own extensions; the cost rule needs the request's variables
(`first: $n`), so it runs in an extension right after validation instead of as a plain validation rule.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution import executor as graphql_executor
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document

from workflow.errors import DomainError
from workflow.request_scope import current_request_id

logger = logging.getLogger("okr.errors")

UNEXPECTED_ERROR = "Unexpected error."
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class LimitSettings(Protocol):
    """The part of server settings the schema needs; schema never imports server (DESIGN §6)."""

    @property
    def development(self) -> bool: ...

    @property
    def max_depth(self) -> int: ...

    @property
    def max_aliases(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    @property
    def max_page_size(self) -> int: ...

    @property
    def default_page_size(self) -> int: ...

    @property
    def max_query_cost(self) -> int: ...


@dataclass(frozen=True)
class PageSizes:
    default: int = 20
    maximum: int = 100


# Set per operation from the settings, read by schema/pagination.py page(): one source for the bounds.
DEFAULT_PAGE_SIZES = PageSizes()
page_sizes: ContextVar[PageSizes] = ContextVar("okr_page_sizes", default=DEFAULT_PAGE_SIZES)


class SingleOperationRule(ASTValidationRule):
    """One operation per document: several would multiply validation work and hide batching."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            self.report_error(GraphQLError("Send one operation per request.", operations[1]))


def _first_argument(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            raw = variables.get(value.name.value)
            return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    return None


class QueryCost:
    """Connections weigh `first` times the cost of what is selected under them (as GitHub and GitLab count).

    Each field costs the number of times it can be resolved: 1 at the root, multiplied by the page
    size of every connection above it. A connection without `first` counts its default page size.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        sizes: PageSizes,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.sizes = sizes
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.page_errors: list[GraphQLError] = []

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selection_set(operation.selection_set, root, 1, frozenset())

    def _page_size(self, field: FieldNode) -> int:
        first = _first_argument(field, self.variables)
        if first is None:
            return self.sizes.default
        if first < 0 or first > self.sizes.maximum:
            self.page_errors.append(
                GraphQLError(
                    f"`first` must be between 0 and {self.sizes.maximum}.", field, extensions={"code": "LIMIT"}
                )
            )
        return max(first, 0)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, multiplier: int, seen: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += multiplier
                if selection.selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                definition = parent.fields.get(selection.name.value)
                if definition is None:
                    continue
                size = self._page_size(selection) if "first" in definition.args else 1
                child = get_named_type(definition.type)
                total += self.selection_set(selection.selection_set, child, multiplier * size, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, target or parent, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selection_set(fragment.selection_set, target, multiplier, seen | {name})
        return total


class QueryLimits(SchemaExtension):
    """Page bounds and the cost ceiling, checked with the request's variables before execution."""

    def __init__(self, *, max_cost: int, sizes: PageSizes, hide_suggestions: bool) -> None:
        self.max_cost = max_cost
        self.sizes = sizes
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        token = page_sizes.set(self.sizes)
        try:
            yield
        finally:
            page_sizes.reset(token)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            # Validating here (instead of in strawberry after this hook) lets the cost check
            # see whether the document is valid; the result is what strawberry would compute.
            context.pre_execution_errors = validate_document(context.schema._schema, document, context.validation_rules)
        if document is not None and not context.pre_execution_errors:
            context.pre_execution_errors = self._cost_errors(context.schema._schema, document, context.variables or {})
        yield

    def _cost_errors(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> list[GraphQLError]:
        cost = QueryCost(schema, document, variables, self.sizes)
        total = sum(cost.operation(d) for d in document.definitions if isinstance(d, OperationDefinitionNode))
        if cost.page_errors:
            return cost.page_errors
        if total > self.max_cost:
            return [
                GraphQLError(
                    f"This query could return up to {total} objects; the limit is {self.max_cost}. "
                    "Ask for smaller pages (`first`) or fewer nested connections.",
                    extensions={"code": "LIMIT", "cost": total, "maxCost": self.max_cost},
                )
            ]
        return []


def _is_expected(error: GraphQLError) -> bool:
    """Errors the client caused or may act on keep their message; anything else is a fault of ours."""
    original = error.original_error
    return original is None or isinstance(original, DomainError | GraphQLError)


class ErrorMasking(SchemaExtension):
    """Unexpected errors become "Unexpected error." plus the request id; the real one goes to the log."""

    def __init__(self, *, mask: bool, hide_suggestions: bool) -> None:
        self.mask = mask
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [self._process(error) for error in errors]  # type: ignore[union-attr]

    def _process(self, error: GraphQLError) -> GraphQLError:
        if _is_expected(error):
            if self.hide_suggestions and "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)
            return error
        request_id = current_request_id.get()
        original = error.original_error
        logger.error(
            "unexpected error in %s: %s",
            ".".join(str(p) for p in error.path or ()) or "operation",
            original,
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"request_id": request_id},
        )
        if not self.mask:
            return error
        return GraphQLError(
            UNEXPECTED_ERROR,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )


BACKGROUND_WORK = "okr_background_work"


async def _gather_without_cancelling(*awaitables: Awaitable[Any]) -> list[Any]:
    """graphql-core's `gather_with_cancel`, minus the cancel: siblings of a failed list item or field
    run to their end before the error propagates.

    Cancelling a resolver in the middle of a database round trip makes SQLAlchemy invalidate the
    request's connection, so one bad argument deep in a list (`teams { objectives(cycleId: "") }`)
    became a broken transaction and a 500. Waiting costs only the time of the slowest sibling.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


# The executor looks the helper up in its module at call time; this is the one place it is replaced.
graphql_executor.gather_with_cancel = _gather_without_cancelling  # type: ignore[attr-defined]


class SettledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Keeps track of resolvers that outlive the result.

    When an error bubbles up to a non-null parent, graphql-core returns at once and lets the
    sibling resolvers still awaiting the database finish in the background. The request must not
    roll back and close its session under them: that breaks the connection and turns a user's
    bad argument into a 500. The futures are recorded on the context; `SettleBackgroundWork`
    waits for them before the HTTP layer ends the transaction.
    """

    def settle_in_background(self, awaitables: list[Awaitable[Any]]) -> None:
        super().settle_in_background(awaitables)
        services = getattr(self.context_value, "services", None)
        if isinstance(services, dict):
            services.setdefault(BACKGROUND_WORK, set()).update(self.background_futures)


class SettleBackgroundWork(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        services = getattr(self.execution_context.context, "services", None)
        pending = services.pop(BACKGROUND_WORK, set()) if isinstance(services, dict) else set()
        while pending:
            await asyncio.wait(pending)
            pending = services.pop(BACKGROUND_WORK, set()) if isinstance(services, dict) else set()


def limit_extensions(settings: LimitSettings) -> Sequence[Callable[[], SchemaExtension]]:
    """The schema extensions for these settings; each is built fresh per request.

    The validation rules are built here, once: strawberry's depth and alias limiters make a new
    rule class per request, which keys the validation cache anew and so revalidated every document
    on every request (a third of a small query's time).
    """
    production = not settings.development
    sizes = PageSizes(default=settings.default_page_size, maximum=settings.max_page_size)
    rules: list[type[ASTValidationRule]] = [
        SingleOperationRule,
        depth_rule(settings.max_depth, None, None),
        aliases_rule(settings.max_aliases),
    ]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        SettleBackgroundWork,
        partial(ErrorMasking, mask=production, hide_suggestions=production),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(AddValidationRules, rules),
        partial(QueryLimits, max_cost=settings.max_query_cost, sizes=sizes, hide_suggestions=production),
    ]


__all__ = [
    "UNEXPECTED_ERROR",
    "ErrorMasking",
    "LimitSettings",
    "PageSizes",
    "QueryCost",
    "QueryLimits",
    "SettleBackgroundWork",
    "SettledExecutionContext",
    "SingleOperationRule",
    "limit_extensions",
    "page_sizes",
]
