"""What one request did, beyond its answer, and the decision it records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairway_ai_gateway.budget.periods import Periods
from fairway_ai_gateway.budget.service import Reservation
from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_ai_gateway.operations import Context, Operation
from fairway_ai_gateway.provider.breaker import Transition


class UnknownAIOperation(LookupError):
    pass


@dataclass
class Outcome:
    """What one request did, beyond its answer: for settlement, events and the audit log."""

    attempts: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[tuple[Reservation, int]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    cost: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    llm_calls: int = 0
    provider_errors: int = 0
    provider_seconds: float = 0.0  # time spent waiting for the provider (the rest is the gateway's own)
    cache_put: tuple[str, str, dict[str, Any]] | None = None  # key, model, output
    total_seconds: float = 0.0


@dataclass
class Answer:
    body: dict[str, Any] | None
    model: str | None
    reason: str | None


@dataclass(frozen=True)
class Decision:
    """One answered request, as the decision log records it (with its Outcome)."""

    ctx: Context
    op: Operation
    cfg: TenantAIConfig
    periods: Periods
    decision_id: str
    source: str  # LLM, CACHE or FALLBACK
    model: str | None
    reason: str | None  # why the fallback answered; None otherwise
    summary: dict[str, Any]
    confidence: float | None
    origin: str
    was_used: bool
    chain: list[str]
