"""Does an event start a journey, or meet its goal? Pure functions over the event's payload, tested directly."""
from __future__ import annotations

from typing import Any

from fairway_journeys.definitions.model import EventTrigger, Goal, PayloadCondition


def value_at(payload: dict[str, Any], path: str) -> Any:
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _num(v: Any) -> float | None:
    try:
        return float(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def holds(c: PayloadCondition, payload: dict[str, Any]) -> bool:
    v = value_at(payload, c.field)
    op = c.operator
    if op == "exists":
        return (v is not None) == (c.value is not False)
    if v is None:
        return op == "neq"
    if op == "eq":
        return str(v).lower() == str(c.value).lower()
    if op == "neq":
        return str(v).lower() != str(c.value).lower()
    if op == "in":
        return isinstance(c.value, list) and str(v).lower() in {str(x).lower() for x in c.value}
    if op == "contains":
        return (str(c.value).lower() in [str(x).lower() for x in v]) if isinstance(v, list) else \
            str(c.value).lower() in str(v).lower()
    a, b = _num(v), _num(c.value)
    if a is None or b is None:
        a, b = str(v), str(c.value)  # type: ignore[assignment]  # ISO dates compare as text
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]  # type: ignore[operator]


def all_hold(conditions: list[PayloadCondition], payload: dict[str, Any]) -> bool:
    return all(holds(c, payload) for c in conditions)


def starts(trigger: EventTrigger, event_type: str, payload: dict[str, Any],
           previous: dict[str, Any] | None = None) -> bool:
    """`previous`: the member's read-model fields before this event (for a score crossing a threshold)."""
    if trigger.eventType != event_type or not all_hold(trigger.conditions, payload):
        return False
    if event_type in ("segment.member_entered", "segment.member_exited") and trigger.segmentId:
        return payload.get("segmentId") == trigger.segmentId
    if event_type == "score.updated" and trigger.scoreField and trigger.threshold is not None:
        new = _num(payload.get(trigger.scoreField))
        old = _num((previous or {}).get(trigger.scoreField))
        if new is None:
            return False
        if trigger.crosses == "above":
            return new >= trigger.threshold and (old is None or old < trigger.threshold)
        return new < trigger.threshold and (old is None or old >= trigger.threshold)
    return True


def entry_key(trigger: EventTrigger, payload: dict[str, Any]) -> str | None:
    """A keyed trigger enters once per value of its key field (a booking id); None when not keyed."""
    if trigger.key is None:
        return None
    v = value_at(payload, trigger.key)
    return f"key:{v}" if v is not None else None


def reaches(goal: Goal, event_type: str, payload: dict[str, Any]) -> bool:
    return goal.eventType == event_type and all_hold(goal.conditions, payload)
