"""The response documents of the scoring API, as the OpenAPI shows them. The services build these documents as
plain JSON (the hot paths serialise them without a second validation); these models describe them, and allow
fields added later so a new field is never dropped on the way out. Routes answer with
`response_model_exclude_unset=True`: a field a document does not carry is not added to it as null."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Document(BaseModel):
    model_config = ConfigDict(extra="allow")


class ModelRef(Document):
    name: str
    version: str | int | None = None
    variant: str | None = None
    source: str | None = None
    kind: str | None = None


class Fallback(Document):
    used: bool
    reason: str | None = None


class Outcome(Document):
    churned: bool
    churnDate: str | None = None
    wasAccurate: bool | None = None


class ChurnPrediction(Document):
    predictionId: str
    customerId: str
    churnProbability: float
    riskLevel: str
    daysUntilChurn: int | None = None
    predictedChurnDate: str | None = None
    horizonDays: int
    topFactors: list[dict[str, Any]]
    recommendedActions: list[Any]
    modelVersion: str
    model: ModelRef
    fallback: Fallback | None = None
    engagementScore: int
    predictedAt: str
    validUntil: str
    actualOutcome: Outcome | None = None


class AtRiskMember(Document):
    customerId: str
    churnProbability: float
    riskLevel: str
    daysUntilChurn: int | None = None
    engagementScore: int
    predictedClv: float | None = None
    modelVersion: str | None = None
    scoredAt: str
    predictionId: str | None = None
    topFactors: list[Any]


class AtRiskPage(Document):
    items: list[AtRiskMember]
    count: int
    riskLevels: list[str]
    daysUntilChurn: int | None = None


class EngagementComponent(Document):
    score: float
    weight: float
    weighted: float
    inputs: dict[str, Any]


class Engagement(Document):
    customerId: str
    engagementScore: int
    components: dict[str, EngagementComponent]
    computedAt: str
    featureSource: str


class MonthlySpend(Document):
    month: str
    predictedSpend: float
    probability: float
    expectedPurchases: float | None = None


class ClvPrediction(Document):
    customerId: str
    historicalClv: float
    predictedClv: float
    totalClv: float
    horizonMonths: int
    clvSegment: str | None = None
    probabilityAlive: float | None = None
    monthlyBreakdown: list[MonthlySpend]
    recommendations: dict[str, Any]
    model: ModelRef
    modelVersion: str | None = None
    fallback: Any = None
    predictedAt: str
    validUntil: str


class SendTimePatterns(Document):
    timezone: str
    bestHourOfDay: int
    bestDayOfWeek: int
    hourlyOpenProbability: list[float]
    dailyOpenProbability: list[float]


class SendTimeProfile(Document):
    customerId: str
    source: str
    confidence: float
    personalConfidence: float
    sampleSize: int
    sends: int
    openRate: float
    fallbackReason: str | None = None
    segment: str | None = None
    patterns: SendTimePatterns
    optimalWindows: list[dict[str, Any]]
    lastUpdated: str


class ModelList(Document):
    items: list[dict[str, Any]]


class PromotionResult(Document):
    model: str
    version: str
    promoted: bool
    reason: str
    previousChampion: str | None = None
    gate: dict[str, Any] | None = None


class ModelPerformance(Document):
    name: str
    champion: str | None = None
    challenger: str | None = None
    loadErrors: dict[str, Any]
    training: list[dict[str, Any]]
    live: dict[str, Any]
    predictionsLast30Days: list[dict[str, Any]]
    drift: Any = None
