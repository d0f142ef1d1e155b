"""A journey definition as data: trigger, entry rules, goal, exit criteria and the steps as a graph.

Pure pydantic, no storage: the API takes and returns it, versions freeze it, the engine walks it. Shape checks
(types, ranges) live here; graph and catalogue checks live in `validation`.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DURATION_RE = re.compile(r"^\s*(?P<sign>[+-]?)\s*(?P<n>\d{1,5})\s*(?P<unit>second|minute|hour|day|week)s?\s*$", re.I)
TIME_RE = re.compile(r"^(?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d)$")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
Channel = Literal["EMAIL", "SMS", "PUSH"]
StepId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class Duration(str):
    """ "3 days", "2 hours", "-7 days": days and weeks are calendar days in the member's time zone (a wall-clock
    09:00 stays 09:00 across a daylight-saving change); hours, minutes and seconds are elapsed time."""

    @classmethod
    def parse(cls, text: str) -> tuple[int, str]:
        m = DURATION_RE.match(text)
        if not m:
            raise ValueError("a duration looks like '3 days', '12 hours', '30 minutes', '45 seconds' or '-7 days'")
        n = int(m.group("n")) * (-1 if m.group("sign") == "-" else 1)
        unit = m.group("unit").lower()
        return (n * 7, "day") if unit == "week" else (n, unit)

    @classmethod
    def elapsed(cls, text: str) -> timedelta:
        n, unit = cls.parse(text)
        return timedelta(**{f"{unit}s": n})


def _duration(v: str) -> str:
    Duration.parse(v)
    return v


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PayloadCondition(_M):
    """A condition on a trigger or goal event's payload: `field` is a key of the payload (dots for nesting)."""

    field: str = Field(min_length=1, max_length=100)
    operator: Literal["eq", "neq", "in", "gt", "gte", "lt", "lte", "contains", "exists"]
    value: Any = None


class EventTrigger(_M):
    type: Literal["event"] = "event"
    eventType: str
    conditions: list[PayloadCondition] = Field(default_factory=list, max_length=20)
    key: str | None = Field(default=None, max_length=100)  # payload field: enter once per value (a booking id)
    segmentId: str | None = None  # segment.member_entered: which segment
    scoreField: Literal["engagementScore", "churnRiskScore", "predictedClv"] | None = None  # score.updated
    crosses: Literal["above", "below"] | None = None
    threshold: float | None = None


class DateTrigger(_M):
    """Enter on a date attribute of the member: N days before/after it, at a time of day in their time zone."""

    type: Literal["date"] = "date"
    attribute: Literal["membershipExpiry", "birthday", "memberSince"]
    offsetDays: int = Field(default=0, ge=-366, le=366)  # -30: thirty days before
    at: str = "09:00"

    @field_validator("at")
    @classmethod
    def _time(cls, v: str) -> str:
        if not TIME_RE.match(v):
            raise ValueError("a time of day is HH:MM, 24-hour")
        return v


class ManualTrigger(_M):
    """Enrolment by API or CSV only."""

    type: Literal["manual"] = "manual"


Trigger = Annotated[EventTrigger | DateTrigger | ManualTrigger, Field(discriminator="type")]


class EntryRules(_M):
    reentry: bool = False  # may a member enter again after their run ended
    minDaysBetween: int | None = Field(default=None, ge=1, le=3650)  # at most once per N days
    oneActiveRun: bool = True  # at most one run in progress per member
    segmentId: str | None = None  # only members of this segment enter


class Goal(_M):
    """Reached when this event arrives for the member within `withinDays` of entry: the run ends CONVERTED."""

    eventType: str
    conditions: list[PayloadCondition] = Field(default_factory=list, max_length=20)
    withinDays: int | None = Field(default=None, ge=1, le=3650)


class ExitCriteria(_M):
    onSegmentExit: bool = False  # leaving the entry segment ends the run
    onUnsubscribe: bool = True


class Content(_M):
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=20000)


class SendStep(_M):
    id: StepId
    type: Literal["SEND"]
    name: str | None = None
    channel: Channel
    templateId: str | None = Field(default=None, max_length=200)
    content: Content | None = None
    next: str | None = None
    notSent: str | None = None  # branch for a send dispatch refused; without it the run goes on to `next`


class WaitStep(_M):
    id: StepId
    type: Literal["WAIT"]
    name: str | None = None
    kind: Literal["duration", "time_of_day", "date_attribute", "event"]
    duration: str | None = None  # duration
    at: str | None = None  # time_of_day ("09:00" member's local time); also date_attribute's time
    weekdays: list[Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]] | None = None
    attribute: Literal["membershipExpiry", "birthday", "memberSince"] | None = None  # date_attribute
    offset: str | None = None  # date_attribute: "-7 days"
    eventType: str | None = None  # event
    ofStep: str | None = None  # event: a SEND step of this run whose message the event must be about
    timeout: str | None = None  # event
    next: str | None = None  # after the wait (event kind: when the event arrives)
    onTimeout: str | None = None  # event kind: when the timeout passes first

    @field_validator("duration", "timeout", "offset")
    @classmethod
    def _durations(cls, v: str | None) -> str | None:
        return None if v is None else _duration(v)

    @field_validator("at")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        if v is not None and not TIME_RE.match(v):
            raise ValueError("a time of day is HH:MM, 24-hour")
        return v


class ConditionStep(_M):
    id: StepId
    type: Literal["CONDITION"]
    name: str | None = None
    criteria: dict[str, Any]  # the segment criteria language (fairway_schemas.criteria)
    yes: str | None = None
    no: str | None = None


class UpdateStep(_M):
    id: StepId
    type: Literal["UPDATE"]
    name: str | None = None
    addTags: list[str] = Field(default_factory=list, max_length=50)
    removeTags: list[str] = Field(default_factory=list, max_length=50)
    attributes: dict[str, Any] = Field(default_factory=dict)
    next: str | None = None


class Branch(_M):
    name: str = Field(min_length=1, max_length=64)
    weight: float = Field(default=1.0, gt=0, le=1000)
    next: str | None = None


class AbTest(_M):
    """Pick a winner by `metric` once it beats every other branch at `confidence`, with `minSample` sends each."""

    metric: Literal["OPEN_RATE", "CLICK_RATE", "CONVERSION"] = "OPEN_RATE"
    confidence: float = Field(default=0.95, ge=0.5, lt=1)
    minSample: int = Field(default=100, ge=1)


class SplitStep(_M):
    id: StepId
    type: Literal["SPLIT"]
    name: str | None = None
    branches: list[Branch] = Field(min_length=2, max_length=10)
    abTest: AbTest | None = None


class EndStep(_M):
    id: StepId
    type: Literal["END"]
    name: str | None = None


Step = Annotated[SendStep | WaitStep | ConditionStep | UpdateStep | SplitStep | EndStep, Field(discriminator="type")]


class Definition(_M):
    trigger: Trigger
    entry: EntryRules = Field(default_factory=EntryRules)
    goal: Goal | None = None
    exit: ExitCriteria = Field(default_factory=ExitCriteria)
    timezone: str = "Africa/Johannesburg"
    start: str | None = None  # the first step; the first in `steps` when not given
    steps: list[Step] = Field(min_length=1, max_length=200)

    @property
    def first(self) -> str:
        return self.start or self.steps[0].id

    def step(self, step_id: str) -> Any:
        for s in self.steps:
            if s.id == step_id:
                return s
        return None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def successors(step: Any) -> list[tuple[str, str | None]]:
    """(branch label, target) of every edge leaving a step, in a fixed order."""
    if isinstance(step, SendStep):
        return [("next", step.next)] + ([("notSent", step.notSent)] if step.notSent else [])
    if isinstance(step, WaitStep):
        out = [("next", step.next)]
        if step.kind == "event" and step.timeout:
            out.append(("onTimeout", step.onTimeout))
        return out
    if isinstance(step, ConditionStep):
        return [("yes", step.yes), ("no", step.no)]
    if isinstance(step, UpdateStep):
        return [("next", step.next)]
    if isinstance(step, SplitStep):
        return [(f"branches[{i}].next", b.next) for i, b in enumerate(step.branches)]
    return []
