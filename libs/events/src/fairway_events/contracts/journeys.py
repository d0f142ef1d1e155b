"""crm.journeys: journey lifecycle and what happens to each run. Keyed by journey id, so one journey's events stay
ordered (a run's started, step_completed and ended events among them)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.journeys"
StepType = Literal["SEND", "WAIT", "CONDITION", "UPDATE", "SPLIT", "END"]
ExitReason = Literal[
    "GOAL",  # not used by run.exited (a goal ends a run as run.converted); listed for analytics' vocabulary
    "LEFT_SEGMENT",  # left the journey's entry segment
    "UNSUBSCRIBED",
    "ERASED",  # identity erased the person
    "MERGED",  # the profile was merged into another one
    "ARCHIVED",  # the journey was archived
    "MANUAL",  # staff ended the run
    "STEP_MISSING",  # defensive: the version has no such step (cannot happen with validated definitions)
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


@registry.event("journey.version_created", 1, topic=TOPIC)
class JourneyVersionCreated(_Model):
    journeyId: str
    version: int = Field(ge=1)
    name: str
    stepCount: int = Field(ge=1)
    triggerType: str


@registry.event("journey.activated", 1, topic=TOPIC)
class JourneyActivated(_Model):
    journeyId: str
    version: int = Field(ge=1)
    name: str


@registry.event("journey.paused", 1, topic=TOPIC)
class JourneyPaused(_Model):
    journeyId: str
    version: int | None = None
    name: str


class _Run(_Model):
    runId: str
    journeyId: str
    version: int = Field(ge=1)
    profileId: str
    at: datetime


@registry.event("run.started", 1, topic=TOPIC)
class RunStarted(_Run):
    entryKey: str
    trigger: str  # event type, "date:<attribute>" or "api"
    triggerEventId: str | None = None


@registry.event("run.step_completed", 1, topic=TOPIC)
class RunStepCompleted(_Run):
    stepId: str
    stepType: StepType
    outcome: str  # branch taken or result: "next", "yes", "no", "timeout", "event", "sent", "not_sent", a variant
    detail: dict[str, Any] = Field(default_factory=dict)


@registry.event("run.converted", 1, topic=TOPIC)
class RunConverted(_Run):
    stepId: str | None = None  # where the run was when the goal was met
    goalEventId: str | None = None


@registry.event("run.exited", 1, topic=TOPIC)
class RunExited(_Run):
    stepId: str | None = None
    reason: ExitReason


@registry.event("run.completed", 1, topic=TOPIC)
class RunCompleted(_Run):
    stepId: str  # the END step reached
