"""Read plans: a query answered by one SQL statement in which PostgreSQL builds the JSON.

graphql-core completes a response field by field: a page of objectives with their key results is
hundreds of resolver calls, each a few microseconds, after every row became an ORM object. PostGraphile
and Hasura instead compile a nested selection into one statement and let the database build the JSON.
This module does the same for the selections it knows (the objectives connection, the stored
columns of objectives and key results, and figures that are a plain SQL expression of one row) and
for nothing else: any other field, a fragment, a directive, an argument or variable it cannot read,
and the document runs through graphql-core as usual, which also reports every error. A plan decides
nothing on its own: visibility and filters come from the statement builder the resolver uses
(`filtered_objectives`), paging from the same `page`, figures from expressions that mirror
workflow.computation; tests/schema/test_read_plans.py runs documents both ways and compares.

PostgreSQL only: SQLite has no base64 to build global ids with, and the embedded default serves a
team trying the product, not a company's dashboards.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from sqlalchemy import Float, FromClause, Select, Text, bindparam, case, cast, func, literal_column, null, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from strawberry.extensions import SchemaExtension

from schema.context import Context
from schema.inputs import ObjectiveFilter
from schema.pagination import page
from schema.queries import filtered_objectives, objectives_statement
from workflow import models
from workflow.enums import Rollup
from workflow.errors import DomainError
from workflow.viewer import Viewer

Sql = ColumnElement[Any]
FieldSql = Callable[[FromClause], Sql]

_OBJECTIVES = models.Objective.__table__
_KEY_RESULTS = models.KeyResult.__table__
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def _text(value: str) -> Sql:
    # A SQL string literal, not a bind parameter: json_build_object takes "any", and PostgreSQL
    # cannot type an untyped parameter there. Only GraphQL names and type names reach this.
    assert _NAME.match(value.rstrip(":")), value
    return literal_column(f"'{value}'", Text)


def _global_id(type_name: str) -> FieldSql:
    """schema.ids.to_global_id in SQL: base64url of "Type:pk" without padding."""

    def build(table: FromClause) -> Sql:
        raw = func.convert_to(_text(f"{type_name}:").concat(cast(table.c.id, Text)), literal_column("'UTF8'"))
        return func.translate(
            func.rtrim(func.encode(raw, literal_column("'base64'")), literal_column("'='")),
            literal_column("'+/'"),
            literal_column("'-_'"),
        )

    return build


def _column(name: str) -> FieldSql:
    return lambda table: table.c[name]


def _current_value(table: FromClause) -> Sql:
    """workflow.computation.progress.current_value over the key result's stored aggregates."""
    c = table.c
    return case(
        (c.checkin_count == 0, null()),
        (c.rollup == str(Rollup.AVERAGE), c.value_sum / cast(c.checkin_count, Float)),
        (c.rollup == str(Rollup.SUM), c.value_sum),
        (c.rollup == str(Rollup.MAX), c.value_max),
        (c.rollup == str(Rollup.MIN), c.value_min),
        else_=c.last_value,
    )


def _key_results_of(parent: FromClause, compile_child: Callable[[FromClause], Sql]) -> Sql:
    """ObjectiveType.key_results: the live key results in position order, as a JSON array."""
    child = _KEY_RESULTS.alias("key_result")
    rows = select(func.json_agg(aggregate_order_by(compile_child(child), child.c.position, child.c.id))).where(
        child.c.objective_id == parent.c.id, child.c.removed.is_(False)
    )
    return func.coalesce(rows.scalar_subquery(), literal_column("'[]'::json"))


@dataclass(frozen=True)
class Shape:
    """What a plan may select on one object type."""

    scalars: dict[str, FieldSql]
    # A list field: (its item type's name, how to aggregate the items of a parent row).
    lists: dict[str, tuple[str, Callable[[FromClause, Callable[[FromClause], Sql]], Sql]]]


SHAPES: dict[str, Shape] = {
    "Objective": Shape(
        scalars={
            "id": _global_id("Objective"),
            "version": _column("version"),
            "title": _column("title"),
            "description": _column("description"),
            "motivation": _column("motivation"),
            "commitment": _column("commitment"),
            "visibility": _column("visibility"),
            "status": _column("status"),
            "weight": _column("weight"),
        },
        lists={"keyResults": ("KeyResult", _key_results_of)},
    ),
    "KeyResult": Shape(
        scalars={
            "id": _global_id("KeyResult"),
            "version": _column("version"),
            "title": _column("title"),
            "metricName": _column("metric_name"),
            "unit": _column("unit"),
            "startValue": _column("start_value"),
            "liftValue": _column("lift_value"),
            "direction": _column("direction"),
            "calculationType": _column("calculation_type"),
            "trackingFrequency": _column("tracking_frequency"),
            "rollup": _column("rollup"),
            "counterMetric": _column("counter_metric"),
            "weight": _column("weight"),
            "currentValue": _current_value,
        },
        lists={},
    ),
}


class RawJson(str):
    """JSON text the database built: the HTTP view writes it into the response as it is, rather
    than parsing it here and serializing it again there (see Context.raw_json)."""


class NotPlannable(Exception):
    """The document asks for something a plan does not know; graphql-core answers it."""


@dataclass(frozen=True)
class Selected:
    key: str  # the response key: the alias, else the field name
    name: str
    children: tuple[Selected, ...] = ()


def _fields(selection_set: SelectionSetNode | None) -> tuple[FieldNode, ...]:
    if selection_set is None:
        raise NotPlannable("a leaf where an object was expected")
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotPlannable("fragments and directives go through graphql-core")
        fields.append(selection)
    keys = [(f.alias or f.name).value for f in fields]
    if len(set(keys)) != len(keys):
        raise NotPlannable("a response key selected twice is merged by graphql-core")
    return tuple(fields)


def _object(type_name: str, selection_set: SelectionSetNode | None) -> tuple[Selected, ...]:
    shape = SHAPES[type_name]
    selected: list[Selected] = []
    for field in _fields(selection_set):
        name, key = field.name.value, (field.alias or field.name).value
        if field.arguments:
            raise NotPlannable(f"{type_name}.{name} with arguments")
        if name == "__typename" or name in shape.scalars:
            if field.selection_set is not None:
                raise NotPlannable("a selection under a leaf")
            selected.append(Selected(key, name))
        elif name in shape.lists:
            item_type, _ = shape.lists[name]
            selected.append(Selected(key, name, _object(item_type, field.selection_set)))
        else:
            raise NotPlannable(f"{type_name}.{name}")
    return tuple(selected)


def _json_object(type_name: str, selected: Iterable[Selected], table: FromClause) -> Sql:
    shape = SHAPES[type_name]
    pairs: list[Sql] = []
    for field in selected:
        if field.name == "__typename":
            value: Sql = _text(type_name)
        elif field.name in shape.scalars:
            value = shape.scalars[field.name](table)
        else:
            item_type, aggregate = shape.lists[field.name]
            children = field.children
            value = aggregate(table, lambda child, t=item_type, s=children: _json_object(t, s, child))  # type: ignore[misc]
        pairs += [_text(field.key), value]
    return func.json_build_object(*pairs)


# The page's objectives, as the JSON of every plan reads them. The JSON expressions are built once
# per plan against this alias (building them is most of a plan's Python cost); a request only adds
# which rows it holds: `objective.id IN (the filtered page)`.
_OBJECTIVE = _OBJECTIVES.alias("objective")


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity: one object per document text
class ObjectivesPlan:
    """`objectives(filter, first, after) { totalCount edges { node { ... } } }` as one statement."""

    operation: OperationDefinitionNode
    field: FieldNode
    # (response key, field name, the edge's JSON for "edges")
    connection: tuple[tuple[str, str, Sql | None], ...]

    @property
    def key(self) -> str:
        return (self.field.alias or self.field.name).value

    def arguments(self, schema: GraphQLSchema, raw_variables: dict[str, Any] | None) -> dict[str, Any]:
        variables = get_variable_values(schema, self.operation.variable_definitions or (), raw_variables or {})
        if isinstance(variables, list):
            raise NotPlannable("variables graphql-core must report on")
        query_type = schema.query_type
        assert query_type is not None
        return get_argument_values(query_type.fields["objectives"], self.field, variables)

    async def statement(
        self, session: AsyncSession, context: Context, arguments: dict[str, Any]
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The plan's statement for this viewer and filter shape (built once, then reused: its
        compiled SQL is cached with it) and the values to execute it with."""
        where = _objective_filter(arguments.get("filter"))
        window = page(arguments.get("first"), arguments.get("after"))
        matching = await filtered_objectives(session, context.viewer, where, inline_team_subtree=True)
        params = {**matching.params, "page_offset": window.offset, "page_limit": window.limit}
        statement = _page_statement(self, context.viewer, matching.shape)
        return statement, params

    def build(self, matching: Select[Any], *, fenced: bool) -> Select[Any]:
        """The plan's statement around `matching` (the filtered objectives), values left to bind."""
        pairs: list[Sql] = []
        for key, name, edge in self.connection:
            if name == "totalCount":
                value: Sql = matching.with_only_columns(func.count()).select_from(_OBJECTIVES).scalar_subquery()
            elif name == "__typename":
                value = _text("ObjectiveConnection")
            else:  # edges
                assert edge is not None
                candidates: Any = matching.with_only_columns(models.Objective.id)
                if fenced:
                    # OFFSET 0 keeps PostgreSQL from pulling the team's rows up under ORDER BY id
                    # LIMIT n, where it would walk the whole cycle in id order to find them.
                    fence = candidates.offset(0).subquery("team_objective")
                    candidates, order = select(fence.c.id), fence.c.id
                else:
                    order = models.Objective.id
                ids = candidates.order_by(order).offset(bindparam("page_offset")).limit(bindparam("page_limit"))
                edges = select(func.json_agg(aggregate_order_by(edge, _OBJECTIVE.c.id))).where(_OBJECTIVE.c.id.in_(ids))
                value = func.coalesce(edges.scalar_subquery(), literal_column("'[]'::json"))
            pairs += [_text(key), value]
        return select(cast(func.json_build_object(*pairs), Text))


@lru_cache(maxsize=1024)
def _page_statement(plan: ObjectivesPlan, viewer: Viewer, shape: frozenset[str]) -> Select[Any]:
    """A plan's statement for a viewer and filter shape, built once: it is then reused with its
    compiled SQL, as the objectives statement it wraps is."""
    return plan.build(objectives_statement(viewer, shape), fenced="team_inline" in shape)


def _edge(selected: tuple[Selected, ...]) -> Sql:
    pairs: list[Sql] = []
    for part in selected:
        if part.name == "__typename":
            value: Sql = _text("ObjectiveEdge")
        else:  # node
            value = _json_object("Objective", part.children, _OBJECTIVE)
        pairs += [_text(part.key), value]
    return func.json_build_object(*pairs)


_FILTER_FIELDS = {
    "cycleId": "cycle_id",
    "teamId": "team_id",
    "ownerUserId": "owner_user_id",
    "status": "status",
    "tag": "tag",
    "search": "search",
}


def _objective_filter(raw: dict[str, Any] | None) -> ObjectiveFilter | None:
    if raw is None:
        return None
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        python_name = _FILTER_FIELDS.get(name, name if name in _FILTER_FIELDS.values() else None)
        if python_name is None:
            raise NotPlannable(f"filter.{name} is computed in Python")  # health depends on today
        values[python_name] = value
    return ObjectiveFilter(**values)


def compile_plan(document: DocumentNode, operation_name: str | None) -> ObjectivesPlan | None:
    """The plan for a document, or None when graphql-core must answer it."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY or operation.directives:
        return None
    try:
        (root,) = _fields(operation.selection_set)
        if root.name.value != "objectives":
            return None
        connection: list[Selected] = []
        for part in _fields(root.selection_set):
            name, key = part.name.value, (part.alias or part.name).value
            if part.arguments:
                raise NotPlannable(name)
            if name in ("totalCount", "__typename"):
                connection.append(Selected(key, name))
            elif name == "edges":
                edge: list[Selected] = []
                for item in _fields(part.selection_set):
                    if item.arguments:
                        raise NotPlannable(item.name.value)
                    if item.name.value == "__typename":
                        edge.append(Selected((item.alias or item.name).value, "__typename"))
                    elif item.name.value == "node":
                        edge.append(
                            Selected((item.alias or item.name).value, "node", _object("Objective", item.selection_set))
                        )
                    else:
                        raise NotPlannable(f"edges.{item.name.value}")  # cursors are built in Python
                connection.append(Selected(key, name, tuple(edge)))
            else:
                raise NotPlannable(f"objectives.{name}")
    except (NotPlannable, ValueError):
        return None
    parts = tuple((part.key, part.name, _edge(part.children) if part.name == "edges" else None) for part in connection)
    return ObjectivesPlan(operation=operation, field=root, connection=parts)


@lru_cache(maxsize=512)
def plan_for(query: str, operation_name: str | None) -> ObjectivesPlan | None:
    """compile_plan, remembered per document text (a text seen for the first time is parsed again
    here: strawberry's parser cache keeps its own parse, keyed the same way)."""
    return compile_plan(parse(query), operation_name)


async def run_plan(
    plan: ObjectivesPlan, schema: GraphQLSchema, context: Context, raw_variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The response data, or None to let graphql-core answer (and report whatever is wrong)."""
    if context.viewer_or_none is None:
        return None
    session = await context.session()
    if session.get_bind().dialect.name != "postgresql":
        return None
    try:
        statement, params = await plan.statement(session, context, plan.arguments(schema, raw_variables))
    except (NotPlannable, DomainError, TypeError, ValueError):
        return None
    connection = await session.connection()  # Core execution: the answer is one text value, no entities
    answer: str = (await connection.execute(statement, params)).scalar_one()
    return {plan.key: RawJson(answer) if context.raw_json else json.loads(answer)}


class ReadPlans(SchemaExtension):
    """Answers a planned query before graphql-core would execute it (after parsing and validation,
    so every limit and rule has already run)."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        if ec.result is None and ec.graphql_document is not None and ec.query is not None:
            plan = plan_for(ec.query, ec.operation_name)
            if plan is not None:
                schema = ec.schema._schema
                assert isinstance(schema.query_type, GraphQLObjectType)
                data = await run_plan(plan, schema, ec.context, ec.variables)
                if data is not None:
                    ec.result = ExecutionResult(data=data, errors=None)
        yield
