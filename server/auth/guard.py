"""Mutations need a credential allowed to write: a write-scoped token, or a cookie session that
echoed its CSRF token. Checked once per operation, before any resolver runs."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from server.auth.principal import principal_of


class CredentialGuard(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.operation_type == OperationType.MUTATION:
            request = getattr(context.context, "request", None)
            principal = principal_of(request) if request is not None else None
            refusal: tuple[str, str] | None = None
            if principal is None:
                refusal = ("UNAUTHENTICATED", "Sign in to use the API.")
            elif not principal.csrf_verified:
                refusal = ("CSRF", "Send the okr_csrf cookie's value in the X-CSRF-Token header.")
            elif not principal.may_write:
                refusal = ("FORBIDDEN", "This credential may only read.")
            if refusal is not None:
                code, message = refusal
                context.result = ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])
        yield
