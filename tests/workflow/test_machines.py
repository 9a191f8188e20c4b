"""Every (state, event) pair of each machine, checked against DESIGN §2's tables.

The expected tables are written here from the design, independently of `workflow.machines`, and
every pair of the product states x events is checked: it moves where DESIGN says, or it is refused
with TRANSITION_NOT_ALLOWED.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from workflow import machines
from workflow.enums import CycleEvent, CyclePhase, ObjectiveEvent, ObjectiveStatus, ProposalStatus
from workflow.errors import DomainError, ErrorCode

P, S, R = CyclePhase, ObjectiveStatus, ProposalStatus

CYCLE_TABLE = {
    (P.PLANNING, CycleEvent.OPEN_NEGOTIATION): P.NEGOTIATING,
    (P.NEGOTIATING, CycleEvent.ACTIVATE): P.ACTIVE,
    (P.ACTIVE, CycleEvent.END): P.REVIEWING,
    (P.REVIEWING, CycleEvent.CLOSE): P.CLOSED,
    (P.CLOSED, CycleEvent.REOPEN): P.REVIEWING,
}

OBJECTIVE_TABLE = {
    (S.DRAFT, ObjectiveEvent.SUBMIT): S.IN_REVIEW,
    (S.IN_REVIEW, ObjectiveEvent.APPROVE): S.APPROVED,
    (S.IN_REVIEW, ObjectiveEvent.REQUEST_CHANGES): S.DRAFT,
    (S.DRAFT, ObjectiveEvent.CANCEL): S.CANCELLED,
    (S.IN_REVIEW, ObjectiveEvent.CANCEL): S.CANCELLED,
    (S.APPROVED, ObjectiveEvent.CANCEL): S.CANCELLED,
    (S.ACTIVE, ObjectiveEvent.COMPLETE): S.COMPLETED,
    # Fired by the system only: the cycle's activation, and an applied cancelling proposal.
    (S.APPROVED, machines.OBJECTIVE_ACTIVATE): S.ACTIVE,
    (S.ACTIVE, machines.OBJECTIVE_CANCEL_BY_PROPOSAL): S.CANCELLED,
}
OBJECTIVE_EVENTS = [*ObjectiveEvent, machines.OBJECTIVE_ACTIVATE, machines.OBJECTIVE_CANCEL_BY_PROPOSAL]

PROPOSAL_TABLE = {
    (R.OPEN, machines.PROPOSAL_APPROVE): R.APPLIED,
    (R.OPEN, machines.PROPOSAL_REJECT): R.REJECTED,
    (R.STALE, machines.PROPOSAL_REJECT): R.REJECTED,
    (R.OPEN, machines.PROPOSAL_REQUEST_CHANGES): R.CHANGES_REQUESTED,
    (R.CHANGES_REQUESTED, machines.PROPOSAL_REVISE): R.OPEN,
    (R.STALE, machines.PROPOSAL_REVISE): R.OPEN,
    (R.OPEN, machines.PROPOSAL_WITHDRAW): R.WITHDRAWN,
    (R.CHANGES_REQUESTED, machines.PROPOSAL_WITHDRAW): R.WITHDRAWN,
    (R.STALE, machines.PROPOSAL_WITHDRAW): R.WITHDRAWN,
    (R.OPEN, machines.PROPOSAL_MARK_STALE): R.STALE,
}
PROPOSAL_EVENTS = [
    machines.PROPOSAL_APPROVE,
    machines.PROPOSAL_REJECT,
    machines.PROPOSAL_REQUEST_CHANGES,
    machines.PROPOSAL_REVISE,
    machines.PROPOSAL_WITHDRAW,
    machines.PROPOSAL_MARK_STALE,
]

# Facts under which every guard passes, so only the table decides.
PERMISSIVE: dict[str, Any] = {
    "force": True,
    "reason": "because",
    "comment": "please",
    "ends_on_reached": True,
    "objectives_in_negotiation": 0,
}

CASES = (
    [
        ("cycle", machines.cycle_machine, state, event, CYCLE_TABLE.get((state, event)), {})
        for state, event in itertools.product(CyclePhase, CycleEvent)
    ]
    + [
        (
            "objective",
            machines.objective_machine,
            state,
            event,
            OBJECTIVE_TABLE.get((state, event)),
            {"phase": P.REVIEWING if event == ObjectiveEvent.COMPLETE else P.NEGOTIATING},
        )
        for state, event in itertools.product(ObjectiveStatus, OBJECTIVE_EVENTS)
    ]
    + [
        ("proposal", machines.proposal_machine, state, event, PROPOSAL_TABLE.get((state, event)), {})
        for state, event in itertools.product(ProposalStatus, PROPOSAL_EVENTS)
    ]
)


@pytest.mark.parametrize(
    ("what", "machine", "state", "event", "expected", "facts"),
    CASES,
    ids=[f"{c[0]}:{c[2]}x{c[3]}" for c in CASES],
)
def test_every_state_and_event(
    what: str, machine: Any, state: str, event: str, expected: str | None, facts: dict[str, Any]
) -> None:
    if expected is None:
        with pytest.raises(DomainError) as refused:
            machines.fire(machine, state, event, what=what, **PERMISSIVE, **facts)
        assert refused.value.code == ErrorCode.TRANSITION_NOT_ALLOWED
        assert not machines.can_fire(machine, state, event)
    else:
        assert machines.fire(machine, state, event, what=what, **PERMISSIVE, **facts) == expected
        assert machines.can_fire(machine, state, event)


@pytest.mark.parametrize(
    ("event", "state", "facts", "code"),
    [
        # Activation with objectives still negotiating: refused, or forced with a reason only.
        (CycleEvent.ACTIVATE, P.NEGOTIATING, {"objectives_in_negotiation": 2}, ErrorCode.TRANSITION_NOT_ALLOWED),
        (CycleEvent.ACTIVATE, P.NEGOTIATING, {"objectives_in_negotiation": 2, "force": True}, ErrorCode.VALIDATION),
        (CycleEvent.END, P.ACTIVE, {"ends_on_reached": False}, ErrorCode.TRANSITION_NOT_ALLOWED),
        (CycleEvent.CLOSE, P.REVIEWING, {"unscored_key_results": 1}, ErrorCode.TRANSITION_NOT_ALLOWED),
        (CycleEvent.CLOSE, P.REVIEWING, {"incomplete_objectives": 1, "force": True}, ErrorCode.VALIDATION),
        (CycleEvent.REOPEN, P.CLOSED, {"reason": "  "}, ErrorCode.VALIDATION),
    ],
)
def test_cycle_guards(event: CycleEvent, state: CyclePhase, facts: dict[str, Any], code: ErrorCode) -> None:
    with pytest.raises(DomainError) as refused:
        machines.fire(machines.cycle_machine, state, event, what="cycle", **facts)
    assert refused.value.code == code


def test_cycle_guards_pass_when_forced_with_a_reason() -> None:
    facts = {"objectives_in_negotiation": 3, "force": True, "reason": "Time is up."}
    assert machines.fire(machines.cycle_machine, P.NEGOTIATING, CycleEvent.ACTIVATE, **facts) == P.ACTIVE
    closing = {"unscored_key_results": 2, "incomplete_objectives": 1, "force": True, "reason": "Reorg."}
    assert machines.fire(machines.cycle_machine, P.REVIEWING, CycleEvent.CLOSE, **closing) == P.CLOSED
    assert machines.fire(machines.cycle_machine, P.ACTIVE, CycleEvent.END, by_admin=True) == P.REVIEWING


@pytest.mark.parametrize("phase", [P.ACTIVE, P.REVIEWING, P.CLOSED])
def test_negotiation_happens_before_activation(phase: CyclePhase) -> None:
    with pytest.raises(DomainError) as refused:
        machines.fire(machines.objective_machine, S.DRAFT, ObjectiveEvent.SUBMIT, phase=phase)
    assert refused.value.code == ErrorCode.TRANSITION_NOT_ALLOWED


def test_request_changes_and_reject_need_a_comment() -> None:
    for machine, state, event in [
        (machines.objective_machine, S.IN_REVIEW, ObjectiveEvent.REQUEST_CHANGES),
        (machines.proposal_machine, R.OPEN, machines.PROPOSAL_REJECT),
        (machines.proposal_machine, R.OPEN, machines.PROPOSAL_REQUEST_CHANGES),
    ]:
        with pytest.raises(DomainError) as refused:
            machines.fire(machine, state, event, phase=P.NEGOTIATING, comment=" ")
        assert refused.value.code == ErrorCode.VALIDATION


def test_firing_leaves_no_model_on_the_shared_machines() -> None:
    machines.fire(machines.cycle_machine, P.PLANNING, CycleEvent.OPEN_NEGOTIATION)
    with pytest.raises(DomainError):
        machines.fire(machines.cycle_machine, P.PLANNING, CycleEvent.CLOSE)
    assert machines.cycle_machine.models == []
