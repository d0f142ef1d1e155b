"""Cost control: reserve before a call, settle after it, and the spec's threshold actions (NOTIFY, THROTTLE,
DISABLE) with their events.

Throttling and disabling are derived from today's spend and the config on every request rather than stored
as flags: raising a threshold takes effect at once, and a new day starts unthrottled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fairway_ai_gateway.budget.periods import Periods
from fairway_ai_gateway.budget.pricing import micros, usd
from fairway_ai_gateway.budget.repository import BudgetRepository, Caps, Figures, Settled
from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_events import Envelope, registry
from fairway_events.contracts.ai import (
    AIBudgetWarning,
    AICostCritical,
    AICostWarning,
    AIDisabled,
    AIThrottled,
)

RefusalReason = Literal["DISABLED", "CALL_LIMIT", "BUDGET_EXCEEDED"]
Executor = AsyncSession | AsyncConnection  # a session in a transaction, or an autocommit connection


@dataclass(frozen=True)
class Reservation:
    id: str
    amount: int
    periods: Periods


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    detail: str


def caps_of(cfg: TenantAIConfig) -> Caps:
    return Caps(
        day_cost=micros(cfg.maxDailyCost),
        month_cost=micros(cfg.maxMonthlyCost),
        day_calls=cfg.maxDailyLLMCalls,
        hour_calls=cfg.maxHourlyLLMCalls,
        disable_at=micros(cfg.dailyCostCritical) if cfg.onCritical == "DISABLE" else None,
    )


def throttle_factor(cfg: TenantAIConfig, day_cost: int) -> float:
    """The share of the normal rate the tenant may use, given today's spend."""
    if cfg.onCritical == "THROTTLE" and day_cost >= micros(cfg.dailyCostCritical):
        return cfg.criticalThrottleFactor
    if cfg.onWarning == "NOTIFY_AND_THROTTLE" and day_cost >= micros(cfg.dailyCostWarning):
        return cfg.warningThrottleFactor
    return 1.0


def is_disabled(cfg: TenantAIConfig, day_cost: int) -> bool:
    return cfg.onCritical == "DISABLE" and day_cost >= micros(cfg.dailyCostCritical)


class BudgetService:
    def __init__(self, *, reservation_ttl: float) -> None:
        self.reservation_ttl = reservation_ttl
        self._known: set[str] = set()  # tenants whose budget row exists
        self._day_cost: dict[
            str, tuple[str, int]
        ] = {}  # last seen (day, cost) per tenant, for the rate limiter
        self._fired: set[tuple[str, str, str]] = set()  # alerts this process knows have fired
        self._limiters: dict[str, tuple[float, AsyncLimiter]] = {}

    # -- rate ------------------------------------------------------------------------------------------------
    def current_factor(self, tenant_id: str, cfg: TenantAIConfig, periods: Periods) -> float:
        day, cost = self._day_cost.get(tenant_id, ("", 0))
        return throttle_factor(cfg, cost if day == periods.day else 0)

    def try_rate(self, tenant_id: str, cfg: TenantAIConfig, factor: float) -> bool:
        """Take one call from the tenant's rate (requestsPerMinute x factor) without waiting."""
        per_minute = cfg.requestsPerMinute * factor
        held = self._limiters.get(tenant_id)
        if held is None or held[0] != per_minute:
            # Below one call a minute the bucket holds one call and refills over a longer period.
            limiter = AsyncLimiter(per_minute, 60) if per_minute >= 1 else AsyncLimiter(1, 60 / per_minute)
            held = (per_minute, limiter)
            self._limiters[tenant_id] = held
        limiter = held[1]
        if not limiter.has_capacity():
            return False
        limiter._level += 1  # what acquire() does once capacity is known; acquire() itself may wait
        return True

    # -- reserve and settle ------------------------------------------------------------------------------
    async def reserve(
        self,
        session: Executor,
        *,
        tenant_id: str,
        cfg: TenantAIConfig,
        amount: int,
        reservation_id: str,
        periods: Periods,
        now: datetime,
        decision_id: str = "",
        operation: str = "",
    ) -> Reservation | Refusal:
        repo = BudgetRepository.for_tenant(session, tenant_id)
        if tenant_id not in self._known:
            await repo.ensure()
            self._known.add(tenant_id)
        caps = caps_of(cfg)
        got = await repo.reserve(
            reservation_id=reservation_id,
            decision_id=decision_id,
            operation=operation,
            amount=amount,
            day=periods.day,
            hour=periods.hour,
            month=periods.month,
            caps=caps,
            expires_at=now + timedelta(seconds=self.reservation_ttl),
        )
        if got is not None:
            self._day_cost[tenant_id] = (periods.day, got[0])
            return Reservation(reservation_id, amount, periods)
        fig = await repo.figures(day=periods.day, hour=periods.hour, month=periods.month)
        self._day_cost[tenant_id] = (periods.day, fig.day_cost)
        return self._why(fig, caps, amount)

    @staticmethod
    def _why(fig: Figures, caps: Caps, amount: int) -> Refusal:
        if caps.disable_at is not None and fig.day_cost >= caps.disable_at:
            return Refusal(
                "DISABLED",
                "AI is disabled for the rest of the day: today's spend reached the critical threshold",
            )
        if fig.hour_calls + 1 > caps.hour_calls:
            return Refusal("CALL_LIMIT", f"hourly LLM call limit of {caps.hour_calls} reached")
        if fig.day_calls + 1 > caps.day_calls:
            return Refusal("CALL_LIMIT", f"daily LLM call limit of {caps.day_calls} reached")
        if fig.month_cost + amount > caps.month_cost:
            return Refusal("BUDGET_EXCEEDED", f"monthly cost cap of ${usd(caps.month_cost)} would be passed")
        return Refusal("BUDGET_EXCEEDED", f"daily cost cap of ${usd(caps.day_cost)} would be passed")

    async def settle(
        self, session: Executor, *, tenant_id: str, reservation: Reservation, actual: int
    ) -> Settled | None:
        settled = await BudgetRepository.for_tenant(session, tenant_id).settle(
            reservation_id=reservation.id, actual=actual
        )
        if settled is not None:
            self._day_cost[tenant_id] = (settled.day_key, settled.day_cost)
        return settled

    # -- thresholds ------------------------------------------------------------------------------------------
    @staticmethod
    def _wanted(cfg: TenantAIConfig, settled: Settled, periods: Periods) -> list[tuple[str, str, Any]]:
        """(period, level, event payload) of every threshold this spend has reached."""
        if settled.day_key != periods.day:
            return []
        day_cost, month_cost = settled.day_cost, settled.month_cost
        day, until = periods.day, periods.end_of_day
        wanted: list[tuple[str, str, Any]] = []
        if day_cost >= micros(cfg.dailyCostWarning):
            wanted.append(
                (
                    day,
                    "COST_WARNING",
                    AICostWarning(
                        day=day,
                        spentUsd=usd(day_cost),
                        thresholdUsd=cfg.dailyCostWarning,
                        action=cfg.onWarning,
                    ),
                )
            )
            if cfg.onWarning == "NOTIFY_AND_THROTTLE":
                wanted.append(
                    (
                        day,
                        "THROTTLED_WARNING",
                        AIThrottled(factor=cfg.warningThrottleFactor, reason="COST_WARNING", until=until),
                    )
                )
        if day_cost >= micros(cfg.dailyCostCritical):
            wanted.append(
                (
                    day,
                    "COST_CRITICAL",
                    AICostCritical(
                        day=day,
                        spentUsd=usd(day_cost),
                        thresholdUsd=cfg.dailyCostCritical,
                        action=cfg.onCritical,
                    ),
                )
            )
            if cfg.onCritical == "THROTTLE":
                wanted.append(
                    (
                        day,
                        "THROTTLED_CRITICAL",
                        AIThrottled(factor=cfg.criticalThrottleFactor, reason="COST_CRITICAL", until=until),
                    )
                )
            elif cfg.onCritical == "DISABLE":
                reason = f"today's AI spend ${usd(day_cost)} reached the critical threshold ${cfg.dailyCostCritical}"
                wanted.append((day, "DISABLED", AIDisabled(reason=reason, until=until)))
        if cfg.maxMonthlyCost > 0 and month_cost >= micros(
            cfg.maxMonthlyCost * cfg.budgetWarningPercent / 100
        ):
            wanted.append(
                (
                    periods.month,
                    "BUDGET_WARNING",
                    AIBudgetWarning(
                        month=periods.month,
                        usedUsd=usd(month_cost),
                        budgetUsd=cfg.maxMonthlyCost,
                        percentUsed=round(100 * usd(month_cost) / cfg.maxMonthlyCost, 2),
                    ),
                )
            )
        return wanted

    def seen(self, tenant_id: str, settled: Settled) -> None:
        self._day_cost[tenant_id] = (settled.day_key, settled.day_cost)

    def alerts_pending(self, tenant_id: str, cfg: TenantAIConfig, settled: Settled, periods: Periods) -> bool:
        """Whether this spend reached a threshold this process has not yet seen fire (no database needed)."""
        return any(
            (tenant_id, p, level) not in self._fired for p, level, _ in self._wanted(cfg, settled, periods)
        )

    async def alerts(
        self, session: Executor, *, tenant_id: str, cfg: TenantAIConfig, settled: Settled, periods: Periods
    ) -> tuple[list[Envelope], list[tuple[str, str, str]]]:
        """The events of thresholds this spend crossed for the first time in its period, and the alert keys to
        `remember` once the transaction holding them committed."""
        out: list[Envelope] = []
        repo = BudgetRepository.for_tenant(session, tenant_id)
        keys = []
        for period_key, level, payload in self._wanted(cfg, settled, periods):
            key = (tenant_id, period_key, level)
            if key in self._fired:
                continue
            if await repo.claim_alert(period_key, level):
                out.append(
                    registry.envelope(
                        payload, tenant_id=tenant_id, aggregate_id=tenant_id, source="ai-gateway"
                    )
                )
            keys.append(key)
        return out, keys

    def remember(self, keys: list[tuple[str, str, str]]) -> None:
        self._fired.update(keys)
