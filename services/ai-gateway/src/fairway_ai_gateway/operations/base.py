"""The operations registry. An operation is everything the gateway needs to know about one kind of request:
its request and result models, the feature toggle that governs it, the model it wants per tier, how to build
its prompt from sanitised input, the schema its answer must meet, and the fallback that answers without an LLM.

Adding `journey.generate`, `journey.insights`, `churn.intervention` or `personalize` is one subclass and one
`register()` call; the gateway applies budget, privacy, safety, breaker, cache and audit to it unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_ai_gateway.privacy.scrub import Scrubber
from fairway_ai_gateway.safety.injection import PromptGuard


@dataclass
class Prompt:
    system: str
    user: str
    max_tokens: int


@dataclass
class Context:
    """One request as it moves through the gateway. Holds the only copies of the values behind placeholders."""

    tenant_id: str
    cfg: TenantAIConfig
    request: Any  # the operation's request model
    now: datetime
    scrubber: Scrubber
    guard: PromptGuard
    max_caller_text: int
    redactions: Counter[str] = field(default_factory=Counter)
    injection: list[str] = field(default_factory=list)  # pattern names found in caller text
    warnings: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # placeholder -> real value (never leaves)
    allowed_tokens: set[str] = field(default_factory=set)
    personalised: bool = False
    personalisation_withheld: str | None = None
    privacy: dict[str, Any] = field(default_factory=dict)  # what the policy did, for the audit log
    customer_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)  # the operation's own working values


class Operation(ABC):
    name: ClassVar[str]
    decision_type: ClassVar[str]  # AIDecisionLog.decisionType
    feature: ClassVar[str]  # TenantAIConfig.features.<feature> must be on for an LLM to be used
    request_model: ClassVar[type[BaseModel]]
    result_model: ClassVar[type[BaseModel]]
    output_model: ClassVar[type[BaseModel]]  # what the LLM must answer
    # Logical model per quality tier; None: the tenant's preferredModel.
    tier_models: ClassVar[dict[str, str | None]] = {"ECONOMY": None, "STANDARD": None, "PREMIUM": None}
    cacheable: ClassVar[bool] = False
    fallback_model_name: ClassVar[str] = "rules"

    def model_for(self, cfg: TenantAIConfig) -> str:
        return self.tier_models.get(cfg.qualityTier) or cfg.preferredModel

    @abstractmethod
    def prepare(self, ctx: Context) -> Prompt:
        """Sanitise the caller's input into ctx (redactions, injection flags, tokens) and build the prompt."""

    @abstractmethod
    def accept(self, ctx: Context, prompt: Prompt, text: str) -> BaseModel:
        """Validate the model's answer (raise OutputInvalid) and return the output model, placeholders kept."""

    @abstractmethod
    def result(self, ctx: Context, output: BaseModel) -> dict[str, Any]:
        """The reply body from an accepted (or cached) output, without source/decisionId/model."""

    @abstractmethod
    def fallback(self, ctx: Context) -> dict[str, Any]:
        """The reply body when no LLM answers (templates, rules)."""

    @abstractmethod
    def input_summary(self, ctx: Context) -> dict[str, Any]:
        """What the audit log keeps of the input: shapes and counts, never caller text or profile values."""

    @abstractmethod
    def output_summary(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def restore(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        """Fill placeholders where the caller may personalise (after the audit summary was taken)."""
        return body

    def cache_material(self, ctx: Context, prompt: Prompt) -> dict[str, Any] | None:
        """What identifies an answer for the content cache (the sanitised prompt); None: do not cache."""
        return None

    def confidence(self, body: dict[str, Any]) -> float | None:
        return None


OPERATIONS: dict[str, Operation] = {}


def register(op: Operation) -> Operation:
    if op.name in OPERATIONS:
        raise ValueError(f"operation {op.name!r} is already registered")
    OPERATIONS[op.name] = op
    return op
