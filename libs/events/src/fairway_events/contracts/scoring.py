"""crm.scoring: scores, churn risk and the model lifecycle. Keyed by profile id (model events: model name)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.scoring"
RiskLevel = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


class Factor(_Model):
    feature: str
    impact: float
    description: str


@registry.event("score.updated", 1, topic=TOPIC)
class ScoreUpdated(_Model):
    profileId: str
    engagementScore: float = Field(ge=0, le=100)
    churnRiskScore: float = Field(ge=0, le=100)
    riskLevel: RiskLevel
    predictedClv: float | None = None
    valueSegment: str | None = None
    modelVersion: str


@registry.event("ml.churn.high_risk_detected", 1, topic=TOPIC)
class ChurnHighRiskDetected(_Model):
    profileId: str
    predictionId: str
    churnProbability: float = Field(ge=0, le=1)
    riskLevel: RiskLevel
    daysUntilChurn: int | None = None
    topFactors: list[Factor] = Field(default_factory=list)
    modelVersion: str
    predictedChurnDate: date | None = None


@registry.event("ml.model.training_completed", 1, topic=TOPIC)
class ModelTrainingCompleted(_Model):
    modelName: str
    version: str
    metrics: dict[str, float]
    asOf: datetime | None = None


@registry.event("ml.model.deployed", 1, topic=TOPIC)
class ModelDeployed(_Model):
    modelName: str
    version: str
    alias: str
    previousVersion: str | None = None


@registry.event("ml.model.performance_degraded", 1, topic=TOPIC)
class ModelPerformanceDegraded(_Model):
    modelName: str
    version: str
    metric: str
    value: float
    threshold: float


@registry.event("ml.feature.drift_detected", 1, topic=TOPIC)
class FeatureDriftDetected(_Model):
    feature: str
    statistic: Literal["PSI", "KS"]
    value: float
    threshold: float
    modelName: str | None = None


@registry.event("send_time.profile_updated", 1, topic=TOPIC)
class SendTimeProfileUpdated(_Model):
    """A member's send-time profile: how likely they open at each hour of the day (hours local to `timezone`).
    Below the minimum confidence ml-scoring's profile is a pooled prior; dispatch pools its own from the club's
    confident profiles."""

    profileId: str
    hourlyOpenProbability: list[float] = Field(min_length=24, max_length=24)
    timezone: str
    confidence: float = Field(ge=0, le=1)
    sampleSize: int = Field(ge=0)
    source: Literal["PERSONAL", "SEGMENT", "TENANT", "ALL_TENANTS", "DEFAULT"] = "PERSONAL"
    updatedAt: datetime
