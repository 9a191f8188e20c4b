"""A faster execution path for the fields that only read their parent.

Strawberry resolves a field that has a resolver through a general path: it builds an `Info`, converts
arguments, chains field extensions, then calls the resolver. That costs microseconds per field, and
a whole-company tree resolves hundreds of thousands of fields (ids, attribute reads, figures that are
a pure function of the row). Most of them need none of it: no arguments, no field extensions, no
permission classes, no exception handlers, a synchronous resolver taking only `self`/`root`/`parent`
(and sometimes `info`). For exactly those, and for plain attribute fields, this module swaps the
graphql-core resolver for a direct call after the schema is built. Behaviour is unchanged: the same
function is called with the same values; anything outside those conditions keeps strawberry's path.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

import strawberry
from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, Undefined, is_leaf_type
from graphql import GraphQLResolveInfo as _GraphQLResolveInfo
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]
GraphQLResolveInfo = _GraphQLResolveInfo[Any]


class Leaf(NamedTuple):
    """A field the executor may complete inline: a scalar or enum from a resolver that ignores `info`
    or reads only `info.context` (see `context_only`)."""

    resolve: Resolver
    type: GraphQLLeafType
    non_null: bool
    needs_context: bool


class ContextOnlyInfo:
    """What an inline `context_only` resolver gets as its raw info: the request's context, nothing else."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


_CONTEXT_ONLY: set[Callable[..., Any]] = set()


def context_only(function: Resolver) -> Resolver:
    """Declare that a resolver reads nothing of its `info` but `info.context`.

    The executor may then complete the field inline, handing it an info that carries only the
    context. Put it under `@strawberry.field`. A resolver that may return an awaitable is fine: the
    executor then lets graphql-core complete that field as usual.
    """
    _CONTEXT_ONLY.add(function)
    return function


# The key, in an object type's `extensions`, of its inline-completable fields by name (filled by
# install_fast_resolvers). Kept on the type itself: a lookup per object completed must be a plain
# attribute and dict read (a WeakKeyDictionary lookup, which builds a weak reference per call, was a
# twelfth of a dashboard request).
LEAVES_KEY = "okr_inline_leaves"


def _passthrough(source: Any, info: Any) -> Any:
    return None


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, completing plain leaf fields inline (a mixin: install_fast_resolvers
    puts it in front of the schema's own execution context class).

    For every field graphql-core builds a response path, a resolve-info object and walks its
    completion dispatch; for a scalar read off the parent that is most of the field's cost, and a
    whole-company tree has hundreds of thousands of them. Here, a leaf field whose resolver ignores
    `info` (see `Leaf`) is resolved and serialized in place. Anything unusual (an error, a null for
    a non-null type, a value the scalar refuses, a resolver middleware) takes graphql-core's own
    path for that field, so answers and errors are unchanged.
    """

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        leaves: dict[str, Leaf] | None = parent_type.extensions.get(LEAVES_KEY)
        manager = self.middleware_manager
        if not leaves or (manager is not None and manager.get_field_resolver(_passthrough) is not _passthrough):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        inline: dict[str, Any] = {}
        general: GroupedFieldSet = {}
        context_info = ContextOnlyInfo(self.context_value)
        for response_name, details in grouped_field_set.items():
            leaf = leaves.get(details[0].node.name.value)
            if leaf is not None:
                try:
                    value = leaf.resolve(source_value, context_info if leaf.needs_context else None)
                    if self.is_awaitable(value):
                        # Not at hand yet: graphql-core calls the resolver again and awaits its answer
                        # (the loads it asked for are cached, so they are not asked twice).
                        if isinstance(value, Coroutine):
                            value.close()
                        value = Undefined
                    elif value is not None:
                        value = leaf.type.coerce_output_value(value)
                except Exception:  # graphql-core's path reports it, located, as a field error
                    value = Undefined
                if value is not Undefined and (value is not None or not leaf.non_null):
                    inline[response_name] = value
                    continue
            general[response_name] = details
        if not general:
            return inline
        completed = super().execute_fields(parent_type, source_value, path, general, position_context)
        order = list(grouped_field_set)
        if self.is_awaitable(completed):

            async def merged() -> dict[str, Any]:
                rest: dict[str, Any] = await completed  # type: ignore[misc]
                return _in_order(order, inline, rest)

            return merged()
        return _in_order(order, inline, completed)  # type: ignore[arg-type]


def _in_order(order: list[str], inline: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """The response keeps the selection's order, whichever path completed each field."""
    return {name: inline[name] if name in inline else rest[name] for name in order if name in inline or name in rest}


def _attribute_reader(name: str) -> Resolver:
    def read(source: Any, info: GraphQLResolveInfo) -> Any:
        return getattr(source, name)

    return read


def _direct_call(schema: strawberry.Schema, field: StrawberryField) -> Resolver | None:
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or resolver.arguments or field.extensions:
        return None
    if getattr(field, "permission_classes", None):
        return None
    function: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    pass_self = resolver.self_parameter is not None
    # A `root: strawberry.Parent[...]` parameter is both the root and the parent parameter: name it once.
    source_names = list(dict.fromkeys(p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p))
    info_parameter = resolver.info_parameter
    info_class = schema.config.info_class

    if info_parameter is None and len(source_names) == 1 and pass_self:
        root_name = source_names[0]

        def self_and_root(source: Any, info: GraphQLResolveInfo) -> Any:
            return function(source, **{root_name: source})

        _INFO_FREE.add(self_and_root)
        return self_and_root

    def general(source: Any, info: GraphQLResolveInfo) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_parameter is not None:
            kwargs[info_parameter.name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if pass_self else function(**kwargs)

    if not resolver.is_async:
        if info_parameter is None:
            _INFO_FREE.add(general)
        elif function in _CONTEXT_ONLY:
            _CONTEXT_READERS.add(general)
    return general


# The rewired resolvers that never look at `info`: safe to call with none (FastExecutionContext).
_INFO_FREE: set[Resolver] = set()
# The rewired resolvers declared `context_only`.
_CONTEXT_READERS: set[Resolver] = set()


def install_fast_resolvers(schema: strawberry.Schema) -> int:
    """Rewire the eligible fields of `schema`'s object types; returns how many were rewired."""
    if schema.schema_converter.config.default_resolver is not getattr:
        return 0  # a custom default resolver must keep being called
    rewired = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        if graphql_type.name in ("Subscription", "Mutation"):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField) or field.extensions:
                continue
            if schema.schema_converter._get_field_exception_handlers(field):
                continue  # exception handlers need strawberry's own path
            fast = _attribute_reader(field.python_name) if field.is_basic_field else _direct_call(schema, field)
            if fast is None:
                continue
            graphql_field.resolve = fast
            rewired += 1
            named = graphql_field.type.of_type if isinstance(graphql_field.type, GraphQLNonNull) else graphql_field.type
            info_free = field.is_basic_field or fast in _INFO_FREE
            needs_context = fast in _CONTEXT_READERS
            if (info_free or needs_context) and not graphql_field.args and is_leaf_type(named):
                non_null = isinstance(graphql_field.type, GraphQLNonNull)
                leaf = Leaf(fast, named, non_null, needs_context)  # type: ignore[arg-type]
                graphql_type.extensions.setdefault(LEAVES_KEY, {})[field_name] = leaf
    configured = schema.execution_context_class
    if not issubclass(configured, FastExecutionContext):
        # Keep what the schema's own context class adds (schema.limits.SettledExecutionContext).
        schema.execution_context_class = type(  # type: ignore[assignment]
            f"Fast{configured.__name__}", (FastExecutionContext, configured), {}
        )
    return rewired
