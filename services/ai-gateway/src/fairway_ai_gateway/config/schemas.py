"""TenantAIConfig of the AI marketing spec (section 15), camelCase as the admin API shows it, plus the cost alert
settings of section 14.2 and the cost controls of section 7.2. Amounts are US dollars.
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fairway_schemas.ai import ShortText

ModelName = Literal["CLAUDE_HAIKU", "CLAUDE_SONNET"]
FallbackModel = Literal["CLAUDE_HAIKU", "TEMPLATE_ONLY"]
QualityTier = Literal["ECONOMY", "STANDARD", "PREMIUM"]
FEATURES = (
    "contentGeneration",
    "sendTimeOptimization",
    "nlSegmentBuilder",
    "journeyOptimization",
    "personalizationEngine",
    "churnIntervention",
)


class Features(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contentGeneration: bool = True
    sendTimeOptimization: bool = False
    nlSegmentBuilder: bool = True
    journeyOptimization: bool = False
    personalizationEngine: bool = False
    churnIntervention: bool = False


class TenantAIConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: Features = Field(default_factory=Features)
    preferredModel: ModelName = "CLAUDE_HAIKU"
    fallbackModel: FallbackModel = "TEMPLATE_ONLY"
    qualityTier: QualityTier = "ECONOMY"
    # Caps: a call whose worst-case cost or count would pass one gets the fallback.
    maxDailyLLMCalls: int = Field(default=100, ge=0, le=1_000_000)
    maxHourlyLLMCalls: int = Field(default=25, ge=0, le=1_000_000)
    maxMonthlyCost: float = Field(default=25.0, ge=0, le=1_000_000)
    maxDailyCost: float = Field(default=6.25, ge=0, le=1_000_000)
    # Content.
    brandVoice: str | None = Field(default=None, max_length=300)
    avoidWords: list[ShortText] = Field(default_factory=list, max_length=100)
    requireApproval: bool = True
    # Privacy.
    allowLLMPersonalization: bool = False
    piiExclusions: list[ShortText] = Field(default_factory=list, max_length=100)
    # Cost alerts (spec 14.2): thresholds on today's spend, and what happens when they are reached.
    dailyCostWarning: float = Field(default=2.5, ge=0, le=1_000_000)
    dailyCostCritical: float = Field(default=5.0, ge=0, le=1_000_000)
    onWarning: Literal["NOTIFY", "NOTIFY_AND_THROTTLE"] = "NOTIFY"
    onCritical: Literal["NOTIFY", "THROTTLE", "DISABLE"] = "THROTTLE"
    budgetWarningPercent: float = Field(default=80.0, gt=0, le=100)
    warningThrottleFactor: float = Field(default=0.5, gt=0, le=1)
    criticalThrottleFactor: float = Field(default=0.1, gt=0, le=1)
    requestsPerMinute: int = Field(default=60, ge=1, le=1_000_000)  # the normal rate of LLM calls
    # Cache of generated content.
    cacheContentVariants: bool = True
    cacheTTLHours: float = Field(default=24.0, ge=0, le=24 * 90)
    timezone: str = "Africa/Johannesburg"  # "today" and "this month" are the club's

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _thresholds(self) -> TenantAIConfig:
        if self.dailyCostWarning > self.dailyCostCritical:
            raise ValueError("dailyCostWarning must not be above dailyCostCritical")
        return self

    def doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _tier(
    preferred: str, fallback: str, calls: int, monthly: float, features: dict[str, bool]
) -> dict[str, Any]:
    # The spec's presets give calls and the monthly cap; the daily figures follow from the monthly cap in the
    # ratios of the spec's own example ($5 warning, $10 critical for a $50 month).
    return {
        "preferredModel": preferred,
        "fallbackModel": fallback,
        "maxDailyLLMCalls": calls,
        "maxHourlyLLMCalls": max(10, calls // 4),
        "maxMonthlyCost": monthly,
        "maxDailyCost": monthly * 0.25,
        "dailyCostWarning": monthly * 0.1,
        "dailyCostCritical": monthly * 0.2,
        "features": features,
    }


TIER_PRESETS: dict[str, dict[str, Any]] = {
    "ECONOMY": _tier(
        "CLAUDE_HAIKU",
        "TEMPLATE_ONLY",
        100,
        25.0,
        {
            "contentGeneration": True,
            "sendTimeOptimization": False,
            "nlSegmentBuilder": True,
            "journeyOptimization": False,
            "personalizationEngine": False,
            "churnIntervention": False,
        },
    ),
    "STANDARD": _tier(
        "CLAUDE_HAIKU",
        "TEMPLATE_ONLY",
        500,
        100.0,
        {
            "contentGeneration": True,
            "sendTimeOptimization": True,
            "nlSegmentBuilder": True,
            "journeyOptimization": True,
            "personalizationEngine": False,
            "churnIntervention": True,
        },
    ),
    "PREMIUM": _tier(
        "CLAUDE_SONNET",
        "CLAUDE_HAIKU",
        2000,
        500.0,
        {
            "contentGeneration": True,
            "sendTimeOptimization": True,
            "nlSegmentBuilder": True,
            "journeyOptimization": True,
            "personalizationEngine": True,
            "churnIntervention": True,
        },
    ),
}


def default_config(timezone: str = "Africa/Johannesburg") -> TenantAIConfig:
    """A tenant that never configured AI: the cheapest tier, no LLM personalisation, approval required."""
    return TenantAIConfig.model_validate(
        {**TIER_PRESETS["ECONOMY"], "qualityTier": "ECONOMY", "timezone": timezone}
    )


class FeaturesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contentGeneration: bool | None = None
    sendTimeOptimization: bool | None = None
    nlSegmentBuilder: bool | None = None
    journeyOptimization: bool | None = None
    personalizationEngine: bool | None = None
    churnIntervention: bool | None = None


class TenantAIConfigPatch(BaseModel):
    """PATCH body: any subset of the document. Changing qualityTier applies that tier's preset to the fields
    this same PATCH does not set."""

    model_config = ConfigDict(extra="forbid")
    features: FeaturesPatch | None = None
    preferredModel: ModelName | None = None
    fallbackModel: FallbackModel | None = None
    qualityTier: QualityTier | None = None
    maxDailyLLMCalls: int | None = Field(default=None, ge=0, le=1_000_000)
    maxHourlyLLMCalls: int | None = Field(default=None, ge=0, le=1_000_000)
    maxMonthlyCost: float | None = Field(default=None, ge=0, le=1_000_000)
    maxDailyCost: float | None = Field(default=None, ge=0, le=1_000_000)
    brandVoice: str | None = Field(default=None, max_length=300)
    avoidWords: list[ShortText] | None = Field(default=None, max_length=100)
    requireApproval: bool | None = None
    allowLLMPersonalization: bool | None = None
    piiExclusions: list[ShortText] | None = Field(default=None, max_length=100)
    dailyCostWarning: float | None = Field(default=None, ge=0, le=1_000_000)
    dailyCostCritical: float | None = Field(default=None, ge=0, le=1_000_000)
    onWarning: Literal["NOTIFY", "NOTIFY_AND_THROTTLE"] | None = None
    onCritical: Literal["NOTIFY", "THROTTLE", "DISABLE"] | None = None
    budgetWarningPercent: float | None = Field(default=None, gt=0, le=100)
    warningThrottleFactor: float | None = Field(default=None, gt=0, le=1)
    criticalThrottleFactor: float | None = Field(default=None, gt=0, le=1)
    requestsPerMinute: int | None = Field(default=None, ge=1, le=1_000_000)
    cacheContentVariants: bool | None = None
    cacheTTLHours: float | None = Field(default=None, ge=0, le=24 * 90)
    timezone: str | None = None


def apply_patch(current: TenantAIConfig, patch: TenantAIConfigPatch) -> tuple[TenantAIConfig, list[str]]:
    """The patched config and the names of the fields that changed (features as `features.<name>`).

    Raises pydantic.ValidationError when the result is invalid (e.g. warning above critical)."""
    sent = patch.model_dump(exclude_unset=True)
    doc = current.doc()
    # null means "leave as is" (below), so it applies no preset either
    if sent.get("qualityTier") is not None and sent["qualityTier"] != current.qualityTier:
        doc.update({k: v for k, v in TIER_PRESETS[sent["qualityTier"]].items() if k not in sent})
    features = sent.pop("features", None) or {}
    doc.update(sent)
    doc["features"] = {**doc["features"], **{k: v for k, v in features.items() if v is not None}}
    # brandVoice may be cleared with null; other nulls mean "leave as is".
    for k, v in sent.items():
        if v is None and k != "brandVoice":
            doc[k] = current.doc()[k]
    new = TenantAIConfig.model_validate(doc)
    before, after = current.doc(), new.doc()
    changed = [f"features.{k}" for k in FEATURES if before["features"][k] != after["features"][k]]
    changed += [k for k in after if k != "features" and before[k] != after[k]]
    return new, changed
