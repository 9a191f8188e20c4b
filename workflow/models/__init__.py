"""Every table of okr-server. Relationships are not mapped: reads go through explicit queries and
dataloaders, so no attribute access can ever issue a hidden statement (the `lazy="raise"` rule taken
to its end)."""

from workflow.models.activity import Comment, Event, Notification
from workflow.models.base import Base, utcnow
from workflow.models.cycle import (
    CheckIn,
    Cycle,
    Initiative,
    KeyResult,
    Objective,
    ObjectiveTag,
    Retrospective,
)
from workflow.models.operations import Job, Webhook, WebhookDelivery
from workflow.models.organization import AccessToken, Membership, Organization, Team, TeamMember, User
from workflow.models.proposal import Proposal, ProposalChange, ProposalReview

__all__ = [
    "AccessToken",
    "Base",
    "CheckIn",
    "Comment",
    "Cycle",
    "Event",
    "Initiative",
    "Job",
    "KeyResult",
    "Membership",
    "Notification",
    "Objective",
    "ObjectiveTag",
    "Organization",
    "Proposal",
    "ProposalChange",
    "ProposalReview",
    "Retrospective",
    "Team",
    "TeamMember",
    "User",
    "Webhook",
    "WebhookDelivery",
    "utcnow",
]

# The event log's hash chain is computed when an Event is inserted; importing the module registers it.
import workflow.audit  # noqa: F401
