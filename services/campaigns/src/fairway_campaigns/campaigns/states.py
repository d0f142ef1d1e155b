"""The campaign state machine, pure: which action may move a campaign from which state, and to where.

DRAFT -> (PENDING_APPROVAL) -> SCHEDULED -> SENDING -> COMPLETED; PAUSED from SCHEDULED or SENDING, back to the
state it left; CANCELLED from anything not finished. Anything else is a conflict the API reports with the
current state.
"""
from __future__ import annotations

from enum import StrEnum

from fairway_chassis.errors import Conflict


class State(StrEnum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Action(StrEnum):
    EDIT = "edit"
    DELETE = "delete"
    SCHEDULE = "schedule"  # -> SCHEDULED, or PENDING_APPROVAL while content awaits review
    APPROVE = "approve"  # every piece of content approved: PENDING_APPROVAL -> SCHEDULED
    REJECT = "reject"  # content rejected: back to DRAFT for editing
    HOLD = "hold"  # unapproved gateway-flagged content found as sending was to start: back to review
    START = "start"  # the fan-out job begins
    COMPLETE = "complete"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


FINISHED = frozenset({State.COMPLETED, State.CANCELLED})

_ALLOWED: dict[Action, frozenset[State]] = {
    Action.EDIT: frozenset({State.DRAFT}),
    Action.DELETE: frozenset({State.DRAFT, State.CANCELLED}),
    Action.SCHEDULE: frozenset({State.DRAFT}),
    Action.APPROVE: frozenset({State.PENDING_APPROVAL}),
    Action.REJECT: frozenset({State.PENDING_APPROVAL}),
    Action.HOLD: frozenset({State.SCHEDULED}),
    Action.START: frozenset({State.SCHEDULED}),
    Action.COMPLETE: frozenset({State.SENDING}),
    Action.PAUSE: frozenset({State.SCHEDULED, State.SENDING}),
    Action.RESUME: frozenset({State.PAUSED}),
    Action.CANCEL: frozenset({State.DRAFT, State.PENDING_APPROVAL, State.SCHEDULED, State.SENDING, State.PAUSED}),
}


class InvalidTransition(Conflict):
    """409: the action is not allowed in the campaign's current state, which `detail` names."""

    def __init__(self, action: Action, current: State) -> None:
        super().__init__(f"cannot {action.value} a campaign in state {current.value}")
        self.action = action
        self.current = current


def allowed(action: Action, current: State) -> bool:
    return current in _ALLOWED[action]


def check(action: Action, current: State) -> None:
    if not allowed(action, current):
        raise InvalidTransition(action, current)


def target(action: Action, current: State, *, needs_approval: bool = False,
           resume_state: State | None = None) -> State:
    """The state `action` leads to from `current` (raises InvalidTransition when it may not happen)."""
    check(action, current)
    match action:
        case Action.SCHEDULE:
            return State.PENDING_APPROVAL if needs_approval else State.SCHEDULED
        case Action.HOLD:
            return State.PENDING_APPROVAL
        case Action.APPROVE:
            return State.SCHEDULED
        case Action.REJECT:
            return State.DRAFT
        case Action.START:
            return State.SENDING
        case Action.COMPLETE:
            return State.COMPLETED
        case Action.PAUSE:
            return State.PAUSED
        case Action.RESUME:
            return resume_state or State.SCHEDULED
        case Action.CANCEL:
            return State.CANCELLED
        case _:
            return current
