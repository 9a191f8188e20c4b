"""The Mutation root, merged from one class per domain so each stays small."""

from strawberry.tools import merge_types

from schema.mutations.notification import NotificationMutations

MUTATION_PARTS: tuple[type, ...] = (NotificationMutations,)

Mutation = merge_types("Mutation", MUTATION_PARTS)
