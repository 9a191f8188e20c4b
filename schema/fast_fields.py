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

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from graphql import GraphQLResolveInfo as _GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]
GraphQLResolveInfo = _GraphQLResolveInfo[Any]


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

        return self_and_root

    def general(source: Any, info: GraphQLResolveInfo) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_parameter is not None:
            kwargs[info_parameter.name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if pass_self else function(**kwargs)

    return general


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
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField) or field.extensions:
                continue
            if schema.schema_converter._get_field_exception_handlers(field):
                continue  # exception handlers need strawberry's own path
            fast = _attribute_reader(field.python_name) if field.is_basic_field else _direct_call(schema, field)
            if fast is not None:
                graphql_field.resolve = fast
                rewired += 1
    return rewired
