"""Journey analytics and suggestions as the API returns them."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class SendStats(BaseModel):
    byOutcome: dict[str, int] = Field(default_factory=dict)  # dispatch's outcome (PENDING: no answer yet)
    delivered: int = 0  # REQUESTED or HELD by dispatch
    opens: int = 0
    clicks: int = 0
    openRate: float | None = None  # opens / delivered
    clickRate: float | None = None
    channel: str | None = None


class StepStats(BaseModel):
    stepId: str
    stepType: str
    entered: int = 0
    completed: int = 0
    waitingNow: int = 0
    exited: dict[str, int] = Field(default_factory=dict)  # reason -> runs that exited while here
    converted: int = 0  # runs whose goal was met while here
    medianSecondsInStep: float | None = None
    branches: dict[str, int] = Field(default_factory=dict)  # outcome -> count
    sends: SendStats | None = None


class VersionStats(BaseModel):
    version: int
    entered: int = 0
    active: int = 0
    completed: int = 0
    converted: int = 0
    exited: dict[str, int] = Field(default_factory=dict)
    conversionRate: float | None = None
    steps: list[StepStats] = Field(default_factory=list)  # in definition order: the funnel


class Analytics(BaseModel):
    journeyId: str
    versions: list[VersionStats]


class Suggestion(BaseModel):
    type: Literal["TIMING", "CONTENT", "BRANCHING", "CHANNEL", "AUDIENCE"]
    stepId: str | None
    description: str
    evidence: dict[str, Any]
    expectedEffect: str
    confidence: float


class Suggestions(BaseModel):
    journeyId: str
    version: int | None
    suggestions: list[Suggestion]
    insights: list[str]  # written by the AI gateway (journey.insights) when it answered
    insightsSource: str | None  # LLM, CACHE, FALLBACK, or UNAVAILABLE
