"""The Mutation root, merged from one class per domain so each stays small."""

from strawberry.tools import merge_types

from schema.mutations.access_token import AccessTokenMutations
from schema.mutations.check_in import CheckInMutations
from schema.mutations.comment import CommentMutations
from schema.mutations.cycle import CycleMutations
from schema.mutations.exchange import ExchangeMutations
from schema.mutations.initiative import InitiativeMutations
from schema.mutations.notification import NotificationMutations
from schema.mutations.objective import ObjectiveMutations
from schema.mutations.proposal import ProposalMutations
from schema.mutations.review import ReviewMutations
from schema.mutations.team import TeamMutations
from schema.mutations.webhook import WebhookMutations

MUTATION_PARTS: tuple[type, ...] = (
    NotificationMutations,
    CycleMutations,
    ObjectiveMutations,
    ProposalMutations,
    CheckInMutations,
    ReviewMutations,
    CommentMutations,
    InitiativeMutations,
    WebhookMutations,
    ExchangeMutations,
    TeamMutations,
    AccessTokenMutations,
)

Mutation = merge_types("Mutation", MUTATION_PARTS)
