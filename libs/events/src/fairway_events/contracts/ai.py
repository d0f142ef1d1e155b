"""crm.ai: the AI gateway's governance events (cost, throttling, breaker, fallbacks). Keyed by tenant.

The AI gateway owns this module. Event types keep the names of the AI marketing spec (section 17,
`crm.ai.*`). Amounts are US dollars, the currency LLM providers bill in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from fairway_events.registry import registry

TOPIC = "crm.ai"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


@registry.event("crm.ai.cost.warning", 1, topic=TOPIC)
class AICostWarning(_Model):
    """Today's spend reached the tenant's daily warning threshold (once per day)."""

    day: str  # the tenant's local date, YYYY-MM-DD
    spentUsd: float
    thresholdUsd: float
    action: Literal["NOTIFY", "NOTIFY_AND_THROTTLE"]


@registry.event("crm.ai.cost.critical", 1, topic=TOPIC)
class AICostCritical(_Model):
    """Today's spend reached the tenant's daily critical threshold (once per day)."""

    day: str
    spentUsd: float
    thresholdUsd: float
    action: Literal["NOTIFY", "THROTTLE", "DISABLE"]


@registry.event("crm.ai.budget.warning", 1, topic=TOPIC)
class AIBudgetWarning(_Model):
    """This month's spend reached the budget warning share of the monthly cap (once per month)."""

    month: str  # YYYY-MM
    usedUsd: float
    budgetUsd: float
    percentUsed: float


@registry.event("crm.ai.throttled", 1, topic=TOPIC)
class AIThrottled(_Model):
    """LLM calls run at `factor` of the tenant's normal rate until `until` (end of the tenant's day)."""

    factor: float
    reason: Literal["COST_WARNING", "COST_CRITICAL"]
    until: datetime


@registry.event("crm.ai.disabled", 1, topic=TOPIC)
class AIDisabled(_Model):
    """No LLM calls for the tenant until `until`; every operation answers from its fallback."""

    reason: str
    until: datetime


@registry.event("crm.ai.fallback.used", 1, topic=TOPIC)
class AIFallbackUsed(_Model):
    decisionId: str
    operation: str
    reason: (
        str  # OFFLINE, BUDGET_EXCEEDED, CALL_LIMIT, THROTTLED, DISABLED, CIRCUIT_OPEN, PROVIDER_ERROR, ...
    )
    attemptedModels: list[str] = []


@registry.event("crm.ai.circuit_breaker.opened", 1, topic=TOPIC)
class AICircuitBreakerOpened(_Model):
    """The circuit of one provider model opened; published under the tenant whose call tripped it."""

    circuit: str  # "anthropic:claude-haiku-4-5"
    provider: str
    model: str
    consecutiveFailures: int
    openSeconds: float


@registry.event("crm.ai.circuit_breaker.closed", 1, topic=TOPIC)
class AICircuitBreakerClosed(_Model):
    circuit: str
    provider: str
    model: str


@registry.event("crm.ai.config.updated", 1, topic=TOPIC)
class AIConfigUpdated(_Model):
    changedFields: list[str]
    updatedBy: str


@registry.event("crm.ai.feature.toggled", 1, topic=TOPIC)
class AIFeatureToggled(_Model):
    feature: str
    enabled: bool
    updatedBy: str
