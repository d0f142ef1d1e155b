"""Definitions are checked before they are saved; every problem names its step and the part at fault."""
from __future__ import annotations

from typing import Any

import pytest
from samples import lapsed, welcome

from fairway_journeys.definitions.validation import InvalidDefinition, check


def problems(raw: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    with pytest.raises(InvalidDefinition) as exc:
        check(raw)
    return [(p.step, p.field, p.message) for p in exc.value.problems]


def test_the_samples_are_valid() -> None:
    assert check(welcome()).first == "welcome"
    assert check(lapsed()).goal is not None


def test_a_cycle_without_a_wait_is_refused() -> None:
    d = welcome()
    d["steps"][3]["next"] = "booked"  # nudge -> booked -> nudge: sends forever without pausing
    found = problems(d)
    assert any(step == "booked" and "cycle without a WAIT" in msg and "nudge" in msg for step, _, msg in found), found


def test_a_cycle_through_a_wait_is_allowed() -> None:
    d = welcome()
    d["steps"][2]["no"] = "nudge"
    d["steps"][3]["next"] = "wait2d"  # nudge -> wait2d -> booked -> nudge: a weekly-style reminder loop
    assert check(d).step("nudge").next == "wait2d"


def test_an_unreachable_step_is_refused() -> None:
    d = welcome()
    d["steps"].insert(5, {"id": "orphan", "type": "SEND", "channel": "SMS", "content": {"body": "Hi"}, "next": "end"})
    assert ("orphan", "steps[5]", "step 'orphan' is unreachable from the start step 'welcome'") in problems(d)


def test_an_unknown_condition_field_is_refused_with_its_path() -> None:
    d = welcome()
    d["steps"][2]["criteria"]["rules"][0]["field"] = "bookingsLastMonth"
    found = problems(d)
    assert found == [("booked", "steps[2].criteria.rules[0].field", "unknown field 'bookingsLastMonth'")]


def test_segment_membership_is_a_condition_field() -> None:
    d = welcome()
    d["steps"][2]["criteria"] = {"rules": [{"field": "segments", "operator": "contains", "value": "seg-vip"}]}
    check(d)


def test_a_path_that_does_not_end_is_refused() -> None:
    d = welcome()
    del d["steps"][4]["next"]  # the UPDATE leads nowhere
    found = problems(d)
    assert any(step == "tag" and field == "steps[4].next" for step, field, _ in found), found


def test_a_loop_with_no_way_out_is_refused() -> None:
    d = welcome()
    d["steps"][4]["next"] = "wait2d"  # tag -> wait2d -> booked -> ... -> tag: no END is reachable
    found = problems(d)
    assert any("reaches an END" in msg for _, _, msg in found), found


def test_a_send_without_content_is_refused() -> None:
    d = welcome()
    d["steps"][3]["content"] = {"subject": "Book now"}
    assert ("nudge", "steps[3].content", "SEND step 'nudge' has neither a templateId nor content with a body") in \
        problems(d)


def test_malformed_steps_name_their_step() -> None:
    d = welcome()
    d["steps"][1]["duration"] = "a fortnight"
    found = problems(d)
    assert [(s, f) for s, f, _ in found] == [("wait2d", "steps[1].duration")]


def test_unknown_trigger_and_goal_events_are_refused() -> None:
    d = lapsed()
    d["trigger"] = {"type": "event", "eventType": "teetime.weather.changed"}
    d["goal"]["eventType"] = "teetime.lesson.booked"
    fields = [f for _, f, _ in problems(d)]
    assert fields == ["trigger.eventType", "goal.eventType"]


def test_wait_for_an_event_of_a_step_that_is_not_a_send() -> None:
    d = lapsed()
    d["steps"][1]["ofStep"] = "wait-book"
    assert ("opened", "steps[1].ofStep", "ofStep 'wait-book' is not a SEND step of this journey") in problems(d)


def test_update_only_staff_editable_attributes() -> None:
    d = welcome()
    d["steps"][4]["attributes"] = {"lifetimeValue": 0}
    assert any(f == "steps[4].attributes.lifetimeValue" for _, f, _ in problems(d))
