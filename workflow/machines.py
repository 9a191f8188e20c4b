"""State machines of DESIGN §2, declared as data with `transitions`.

One module-level `Machine(model=None, ...)` per aggregate. Rows are never attached to a machine
(that would bind trigger methods onto ORM instances): `fire` runs an event against a throwaway
token holding the current state and returns the state it moved to. Guards are machine
conditions over facts the calling service gathered; a guard that says no raises a typed
`TransitionNotAllowed`, so the caller never sees a bare `False`. Who may fire an event is a
separate question answered by `workflow.permissions`; effects on other rows (activating the
approved objectives of a cycle, applying a proposal) are the services' work after `fire`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine, MachineError

from workflow import enums, models, permissions
from workflow.enums import CyclePhase, ObjectiveStatus, ProposalStatus
from workflow.errors import TransitionNotAllowed, ValidationFailed
from workflow.viewer import Viewer

# Objective events no client fires: the cycle's activation and an applied cancelling proposal.
OBJECTIVE_ACTIVATE = "ACTIVATE"
OBJECTIVE_CANCEL_BY_PROPOSAL = "CANCEL_BY_PROPOSAL"

# Proposal events (the review decisions plus the author's and the system's).
PROPOSAL_APPROVE = "APPROVE"
PROPOSAL_REJECT = "REJECT"
PROPOSAL_REQUEST_CHANGES = "REQUEST_CHANGES"
PROPOSAL_REVISE = "REVISE"
PROPOSAL_WITHDRAW = "WITHDRAW"
PROPOSAL_MARK_STALE = "MARK_STALE"

NEGOTIATION_PHASES = frozenset({CyclePhase.PLANNING, CyclePhase.NEGOTIATING})
NEGOTIATION_EVENTS = frozenset(
    {enums.ObjectiveEvent.SUBMIT, enums.ObjectiveEvent.APPROVE, enums.ObjectiveEvent.REQUEST_CHANGES}
)


def _facts(event: EventData) -> Mapping[str, Any]:
    return event.kwargs


def _reason_given(event: EventData) -> bool:
    reason = _facts(event).get("reason")
    return bool(reason and str(reason).strip())


def _guard_activate(event: EventData) -> bool:
    open_count = int(_facts(event).get("objectives_in_negotiation", 0))
    if open_count == 0:
        return True
    if not _facts(event).get("force"):
        raise TransitionNotAllowed(
            f"{open_count} objective(s) are still in DRAFT or IN_REVIEW. Approve or cancel them, "
            "or activate with force and a reason (they will be cancelled)."
        )
    if not _reason_given(event):
        raise ValidationFailed("Forcing activation needs a reason.", "reason")
    return True


def _guard_end(event: EventData) -> bool:
    # The scheduler fires END on the end date; before it, only an admin's explicit call may.
    if _facts(event).get("ends_on_reached") or _facts(event).get("by_admin"):
        return True
    raise TransitionNotAllowed("The cycle has not reached its end date; only an admin may end it early.")


def _guard_close(event: EventData) -> bool:
    unscored = int(_facts(event).get("unscored_key_results", 0))
    incomplete = int(_facts(event).get("incomplete_objectives", 0))
    if unscored == 0 and incomplete == 0:
        return True
    if not _facts(event).get("force"):
        raise TransitionNotAllowed(
            f"{unscored} key result(s) are unscored and {incomplete} objective(s) are not COMPLETED. "
            "Score them, or close with force and a reason."
        )
    if not _reason_given(event):
        raise ValidationFailed("Forcing the close needs a reason.", "reason")
    return True


def _guard_reason(event: EventData) -> bool:
    if not _reason_given(event):
        raise ValidationFailed("Reopening a closed cycle needs a reason.", "reason")
    return True


def _guard_negotiating(event: EventData) -> bool:
    phase = _facts(event).get("phase")
    if phase in NEGOTIATION_PHASES:
        return True
    raise TransitionNotAllowed(
        f"Objectives are negotiated while the cycle is PLANNING or NEGOTIATING; it is {phase}. "
        "Change agreed objectives through a proposal."
    )


def _guard_reviewing(event: EventData) -> bool:
    phase = _facts(event).get("phase")
    if phase == CyclePhase.REVIEWING:
        return True
    raise TransitionNotAllowed(f"Objectives are completed while the cycle is REVIEWING; it is {phase}.")


def _guard_comment(event: EventData) -> bool:
    comment = _facts(event).get("comment")
    if comment and str(comment).strip():
        return True
    raise ValidationFailed("Say what should change: a comment is required.", "comment")


CYCLE_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": enums.CycleEvent.OPEN_NEGOTIATION, "source": CyclePhase.PLANNING, "dest": CyclePhase.NEGOTIATING},
    {
        "trigger": enums.CycleEvent.ACTIVATE,
        "source": CyclePhase.NEGOTIATING,
        "dest": CyclePhase.ACTIVE,
        "conditions": [_guard_activate],
    },
    {
        "trigger": enums.CycleEvent.END,
        "source": CyclePhase.ACTIVE,
        "dest": CyclePhase.REVIEWING,
        "conditions": [_guard_end],
    },
    {
        "trigger": enums.CycleEvent.CLOSE,
        "source": CyclePhase.REVIEWING,
        "dest": CyclePhase.CLOSED,
        "conditions": [_guard_close],
    },
    {
        "trigger": enums.CycleEvent.REOPEN,
        "source": CyclePhase.CLOSED,
        "dest": CyclePhase.REVIEWING,
        "conditions": [_guard_reason],
    },
]

_UNDER_NEGOTIATION = [ObjectiveStatus.DRAFT, ObjectiveStatus.IN_REVIEW]
OBJECTIVE_TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": enums.ObjectiveEvent.SUBMIT,
        "source": ObjectiveStatus.DRAFT,
        "dest": ObjectiveStatus.IN_REVIEW,
        "conditions": [_guard_negotiating],
    },
    {
        "trigger": enums.ObjectiveEvent.APPROVE,
        "source": ObjectiveStatus.IN_REVIEW,
        "dest": ObjectiveStatus.APPROVED,
        "conditions": [_guard_negotiating],
    },
    {
        "trigger": enums.ObjectiveEvent.REQUEST_CHANGES,
        "source": ObjectiveStatus.IN_REVIEW,
        "dest": ObjectiveStatus.DRAFT,
        "conditions": [_guard_negotiating, _guard_comment],
    },
    {
        "trigger": enums.ObjectiveEvent.CANCEL,
        "source": [*_UNDER_NEGOTIATION, ObjectiveStatus.APPROVED],
        "dest": ObjectiveStatus.CANCELLED,
    },
    {
        "trigger": enums.ObjectiveEvent.COMPLETE,
        "source": ObjectiveStatus.ACTIVE,
        "dest": ObjectiveStatus.COMPLETED,
        "conditions": [_guard_reviewing],
    },
    {"trigger": OBJECTIVE_ACTIVATE, "source": ObjectiveStatus.APPROVED, "dest": ObjectiveStatus.ACTIVE},
    {"trigger": OBJECTIVE_CANCEL_BY_PROPOSAL, "source": ObjectiveStatus.ACTIVE, "dest": ObjectiveStatus.CANCELLED},
]

_REVIEWABLE = [ProposalStatus.OPEN]
PROPOSAL_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": PROPOSAL_APPROVE, "source": _REVIEWABLE, "dest": ProposalStatus.APPLIED},
    {
        "trigger": PROPOSAL_REJECT,
        "source": [ProposalStatus.OPEN, ProposalStatus.STALE],
        "dest": ProposalStatus.REJECTED,
        "conditions": [_guard_comment],
    },
    {
        "trigger": PROPOSAL_REQUEST_CHANGES,
        "source": _REVIEWABLE,
        "dest": ProposalStatus.CHANGES_REQUESTED,
        "conditions": [_guard_comment],
    },
    {
        "trigger": PROPOSAL_REVISE,
        "source": [ProposalStatus.CHANGES_REQUESTED, ProposalStatus.STALE],
        "dest": ProposalStatus.OPEN,
    },
    {
        "trigger": PROPOSAL_WITHDRAW,
        "source": [ProposalStatus.OPEN, ProposalStatus.CHANGES_REQUESTED, ProposalStatus.STALE],
        "dest": ProposalStatus.WITHDRAWN,
    },
    {"trigger": PROPOSAL_MARK_STALE, "source": ProposalStatus.OPEN, "dest": ProposalStatus.STALE},
]


def _machine(states: type[Any], transitions: list[dict[str, Any]]) -> Machine:
    return Machine(
        model=None,
        states=[str(s) for s in states],
        transitions=[
            {**t, "trigger": str(t["trigger"]), "source": _names(t["source"]), "dest": str(t["dest"])}
            for t in transitions
        ],
        initial=None,
        auto_transitions=False,
        send_event=True,
    )


def _names(source: Any) -> list[str] | str:
    return [str(s) for s in source] if isinstance(source, list) else str(source)


cycle_machine = _machine(CyclePhase, CYCLE_TRANSITIONS)
objective_machine = _machine(ObjectiveStatus, OBJECTIVE_TRANSITIONS)
proposal_machine = _machine(ProposalStatus, PROPOSAL_TRANSITIONS)


@dataclass
class _Token:
    """What the machine moves: only a state, never a row."""

    state: str


def fire(machine: Machine, state: str, event: str, what: str = "object", **facts: Any) -> str:
    """Run `event` from `state` with its guards; the new state, or a typed refusal."""
    if not machine.get_transitions(trigger=str(event), source=str(state)):
        raise TransitionNotAllowed(f"{event} is not possible for a {what} that is {state}.")
    token = _Token(str(state))
    machine.add_model(token, initial=str(state))
    try:
        moved = token.trigger(str(event), **facts)  # type: ignore[attr-defined]
    except MachineError as error:
        raise TransitionNotAllowed(f"{event} is not possible for a {what} that is {state}.") from error
    finally:
        machine.remove_model(token)
    if not moved:
        raise TransitionNotAllowed(f"{event} is not possible for a {what} that is {state}.")
    return token.state


def can_fire(machine: Machine, state: str, event: str) -> bool:
    """Whether the table has the move at all (guards aside)."""
    return bool(machine.get_transitions(trigger=str(event), source=str(state)))


def cycle_events_available(cycle: models.Cycle, viewer: Viewer, today: dt.date | None = None) -> list[enums.CycleEvent]:
    """What this viewer may fire now. Guards that `force` can override do not hide an event."""
    today = today or dt.datetime.now(dt.UTC).date()
    available = []
    for event in enums.CycleEvent:
        if not (can_fire(cycle_machine, cycle.phase, event) and permissions.may_fire_cycle_event(viewer, event)):
            continue
        if event == enums.CycleEvent.END and not (viewer.is_admin or today >= cycle.ends_on):
            continue
        available.append(event)
    return available


def objective_events_available(
    objective: models.Objective,
    cycle: models.Cycle,
    viewer: Viewer,
    parent_owner_team_id: int | None = None,
    submitter_role: enums.Role | None = None,
) -> list[enums.ObjectiveEvent]:
    negotiating = cycle.phase in NEGOTIATION_PHASES
    available: list[enums.ObjectiveEvent] = []
    for event in enums.ObjectiveEvent:
        if not can_fire(objective_machine, objective.status, event):
            continue
        if event in NEGOTIATION_EVENTS and not negotiating:
            continue
        if event == enums.ObjectiveEvent.COMPLETE and cycle.phase != CyclePhase.REVIEWING:
            continue
        if permissions.may_fire_objective_event(viewer, objective, event, parent_owner_team_id, submitter_role):
            available.append(event)
    return available
