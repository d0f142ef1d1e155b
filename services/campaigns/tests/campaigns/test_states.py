"""The state machine, pure."""
import pytest

from fairway_campaigns.campaigns.states import Action, InvalidTransition, State, allowed, target


def test_happy_path() -> None:
    assert target(Action.SCHEDULE, State.DRAFT) is State.SCHEDULED
    assert target(Action.SCHEDULE, State.DRAFT, needs_approval=True) is State.PENDING_APPROVAL
    assert target(Action.APPROVE, State.PENDING_APPROVAL) is State.SCHEDULED
    assert target(Action.REJECT, State.PENDING_APPROVAL) is State.DRAFT
    assert target(Action.START, State.SCHEDULED) is State.SENDING
    assert target(Action.COMPLETE, State.SENDING) is State.COMPLETED


def test_pause_resumes_where_it_left() -> None:
    assert target(Action.PAUSE, State.SENDING) is State.PAUSED
    assert target(Action.RESUME, State.PAUSED, resume_state=State.SENDING) is State.SENDING
    assert target(Action.RESUME, State.PAUSED, resume_state=State.SCHEDULED) is State.SCHEDULED


@pytest.mark.parametrize("state", [State.COMPLETED, State.CANCELLED])
def test_finished_campaigns_do_nothing_more(state: State) -> None:
    for action in (Action.SCHEDULE, Action.PAUSE, Action.RESUME, Action.CANCEL, Action.START, Action.EDIT):
        assert not allowed(action, state)
        with pytest.raises(InvalidTransition) as err:
            target(action, state)
        assert err.value.status_code == 409 and state.value in err.value.detail


def test_only_drafts_are_edited() -> None:
    assert [s for s in State if allowed(Action.EDIT, s)] == [State.DRAFT]
    assert not allowed(Action.START, State.PAUSED)  # a paused campaign's job must not start it
