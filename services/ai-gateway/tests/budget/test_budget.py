"""The budget against real PostgreSQL: atomic reservations under concurrency, settlement, release, alerts."""

import asyncio
from datetime import UTC, datetime, timedelta

from fairway_ai_gateway.budget.periods import periods_at
from fairway_ai_gateway.budget.pricing import PriceTable
from fairway_ai_gateway.budget.repository import Settled
from fairway_ai_gateway.budget.service import Refusal, Reservation, throttle_factor
from fairway_ai_gateway.config.schemas import TenantAIConfig, default_config
from fairway_events import new_event_id

NOW = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)


def cfg(**kw) -> TenantAIConfig:
    return TenantAIConfig.model_validate({**default_config().doc(), **kw})


async def reserve(gw, tenant: str, config: TenantAIConfig, amount: int, now: datetime = NOW):
    async with gw.sessionmaker() as s, s.begin():
        return await gw.budget.reserve(
            s,
            tenant_id=tenant,
            cfg=config,
            amount=amount,
            reservation_id=new_event_id(),
            periods=periods_at(now, config.timezone),
            now=now,
        )


async def test_fifty_concurrent_reservations_never_pass_the_daily_cap(make_gateway, sql) -> None:
    gw = await make_gateway()
    config = cfg(maxDailyCost=0.0105, maxDailyLLMCalls=1000, maxHourlyLLMCalls=1000)  # 10,500 micro-dollars
    results = await asyncio.gather(*[reserve(gw, "club-a", config, 1000) for _ in range(50)])
    granted = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(granted) == 10 and len(refused) == 40
    assert {r.reason for r in refused} == {"BUDGET_EXCEEDED"}
    [(day_cost, month_cost)] = await sql(
        gw, "SELECT day_cost, month_cost FROM ai_budget WHERE tenant_id='club-a'"
    )
    assert day_cost == month_cost == 10_000
    # settling with real (smaller) usage frees the difference; the reservations are gone
    for r in granted:
        async with gw.sessionmaker() as s, s.begin():
            await gw.budget.settle(s, tenant_id="club-a", reservation=r, actual=400)
    [(day_cost,)] = await sql(gw, "SELECT day_cost FROM ai_budget WHERE tenant_id='club-a'")
    assert day_cost == 4_000
    assert await sql(gw, "SELECT count(*) FROM ai_reservation") == [(0,)]
    # another tenant's budget is its own
    assert isinstance(await reserve(gw, "club-b", config, 10_000), Reservation)


async def test_monthly_cap_and_call_limits(make_gateway) -> None:
    gw = await make_gateway()
    config = cfg(maxDailyCost=100, maxMonthlyCost=0.003, maxDailyLLMCalls=1000, maxHourlyLLMCalls=1000)
    assert isinstance(await reserve(gw, "club-a", config, 2000), Reservation)
    refusal = await reserve(gw, "club-a", config, 2000)
    assert (
        isinstance(refusal, Refusal) and refusal.reason == "BUDGET_EXCEEDED" and "monthly" in refusal.detail
    )
    config = cfg(maxDailyCost=100, maxMonthlyCost=100, maxDailyLLMCalls=1000, maxHourlyLLMCalls=2)
    assert isinstance(await reserve(gw, "club-c", config, 1), Reservation)
    assert isinstance(await reserve(gw, "club-c", config, 1), Reservation)
    refusal = await reserve(gw, "club-c", config, 1)
    assert isinstance(refusal, Refusal) and refusal.reason == "CALL_LIMIT" and "hourly" in refusal.detail
    # the next hour has its own count; the day keeps counting
    later = NOW + timedelta(hours=1)
    assert isinstance(await reserve(gw, "club-c", config, 1, later), Reservation)
    config = cfg(maxDailyCost=100, maxMonthlyCost=100, maxDailyLLMCalls=3, maxHourlyLLMCalls=10)
    refusal = await reserve(gw, "club-c", config, 1, later)
    assert isinstance(refusal, Refusal) and "daily LLM call limit" in refusal.detail


async def test_a_new_day_starts_from_zero_and_disable_holds_for_the_day(make_gateway) -> None:
    gw = await make_gateway()
    config = cfg(
        maxDailyCost=1,
        dailyCostWarning=0.001,
        dailyCostCritical=0.002,
        onCritical="DISABLE",
        maxDailyLLMCalls=1000,
        maxHourlyLLMCalls=1000,
    )
    assert isinstance(await reserve(gw, "club-a", config, 2500), Reservation)  # crosses critical
    refusal = await reserve(gw, "club-a", config, 1)
    assert isinstance(refusal, Refusal) and refusal.reason == "DISABLED"
    tomorrow = NOW + timedelta(days=1)
    assert isinstance(await reserve(gw, "club-a", config, 1, tomorrow), Reservation)


async def test_an_unsettled_reservation_is_charged_at_worst_case_and_logged(make_gateway, sql) -> None:
    gw = await make_gateway(reservation_ttl_seconds=0.01, request_deadline_seconds=0.005)
    config = cfg(maxDailyLLMCalls=1000, maxHourlyLLMCalls=1000)
    now = datetime.now(UTC)
    assert isinstance(await reserve(gw, "club-a", config, 5000, now), Reservation)
    await asyncio.sleep(0.05)
    orphans, _ = await gw.sweep()
    assert orphans == 1
    # the call may have been billed: the worst case stays charged, and the audit log says what happened
    assert await sql(gw, "SELECT day_cost, (SELECT count(*) FROM ai_reservation) FROM ai_budget") == [
        (5000, 0)
    ]
    assert await sql(gw, "SELECT source, fallback_reason, cost_micros FROM ai_decision_log") == [
        ("UNSETTLED", "RESERVATION_EXPIRED", 5000)
    ]
    assert await gw.sweep() == (0, 0)


async def test_threshold_alerts_fire_once_per_period(make_gateway, sql) -> None:
    gw = await make_gateway()
    config = cfg(
        dailyCostWarning=1,
        dailyCostCritical=2,
        onWarning="NOTIFY_AND_THROTTLE",
        onCritical="THROTTLE",
        maxMonthlyCost=10,
        budgetWarningPercent=20,
    )
    p = periods_at(NOW, config.timezone)
    settled = Settled(day_key=p.day, day_cost=2_100_000, month_key=p.month, month_cost=2_100_000)
    async with gw.sessionmaker() as s, s.begin():
        events, keys = await gw.budget.alerts(s, tenant_id="club-a", cfg=config, settled=settled, periods=p)
    gw.budget.remember(keys)
    types = sorted(e.event_type for e in events)
    assert types == [
        "crm.ai.budget.warning",
        "crm.ai.cost.critical",
        "crm.ai.cost.warning",
        "crm.ai.throttled",
        "crm.ai.throttled",
    ]
    assert throttle_factor(config, 2_100_000) == config.criticalThrottleFactor
    assert throttle_factor(config, 1_500_000) == config.warningThrottleFactor
    gw.budget._fired.clear()  # another replica: the database still says they fired
    async with gw.sessionmaker() as s, s.begin():
        again, _ = await gw.budget.alerts(s, tenant_id="club-a", cfg=config, settled=settled, periods=p)
    assert again == []


def test_worst_case_bounds_any_tokenisation() -> None:
    prices = PriceTable({"m": (1.0, 5.0)})
    text = "Gold members ⛳ who haven't played"
    worst = prices.worst_case("m", text, 100)
    # even one token per byte of the prompt, plus the framing, plus all 100 output tokens, fits
    assert worst >= prices.cost("m", len(text.encode()), 100)
    assert prices.cost("m", 1000, 200) == 2000
