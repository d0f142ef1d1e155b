"""HTTP API for club staff: the tenant's AI config, usage, quality, a governed test run, and explanations.
The tenant is always the caller's (principal.tenant_id): no endpoint takes a tenant from the request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ai_gateway.admin.schemas import ConfigChanged, ConfigOut, Explanation, Quality, TestRun, Usage
from fairway_ai_gateway.audit.explain import explain
from fairway_ai_gateway.audit.repository import AuditRepository
from fairway_ai_gateway.budget.periods import periods_at
from fairway_ai_gateway.budget.pricing import micros, usd
from fairway_ai_gateway.budget.repository import BudgetRepository
from fairway_ai_gateway.budget.service import is_disabled, throttle_factor
from fairway_ai_gateway.config.schemas import TenantAIConfig, TenantAIConfigPatch
from fairway_ai_gateway.deps import Admin, ConfigReader, Explainer, GatewayDep, Tester
from fairway_ai_gateway.gateway.pipeline import Gateway, UnknownAIOperation
from fairway_chassis import NotFound, SessionDep, Unprocessable, error_responses, field_errors

router = APIRouter(prefix="/api/v1", tags=["ai"])
Range = Literal["7d", "30d", "90d"]
RANGE_DAYS = {"7d": 7, "30d": 30, "90d": 90}


async def _status(gw: Gateway, session: AsyncSession, tenant: str, cfg: TenantAIConfig) -> dict[str, Any]:
    p = periods_at(gw.clock.now(), cfg.timezone)
    repo = BudgetRepository.for_tenant(session, tenant)
    fig = await repo.figures(day=p.day, hour=p.hour, month=p.month)
    return {
        "today": {
            "date": p.day,
            "costUsd": usd(fig.day_cost),
            "llmCalls": fig.day_calls,
            "dailyCapUsd": cfg.maxDailyCost,
            "callLimit": cfg.maxDailyLLMCalls,
            "warningUsd": cfg.dailyCostWarning,
            "criticalUsd": cfg.dailyCostCritical,
        },
        "thisHour": {"hour": p.hour, "llmCalls": fig.hour_calls, "callLimit": cfg.maxHourlyLLMCalls},
        "month": {
            "month": p.month,
            "costUsd": usd(fig.month_cost),
            "capUsd": cfg.maxMonthlyCost,
            "percentUsed": round(100 * fig.month_cost / micros(cfg.maxMonthlyCost), 2)
            if cfg.maxMonthlyCost
            else None,
        },
        "throttleFactor": throttle_factor(cfg, fig.day_cost),
        "disabled": is_disabled(cfg, fig.day_cost),
        "outstandingReservations": await repo.outstanding(),
        "offline": gw.provider is None,
        "circuits": gw.breakers.states(),
    }


@router.get("/admin/ai/config", summary="The tenant's AI configuration (TenantAIConfig) and budget status", response_model=ConfigOut, response_model_exclude_unset=True)
async def get_config(
    gw: GatewayDep,
    session: SessionDep,
    principal: ConfigReader,
) -> dict[str, Any]:
    await gw.flush()  # this replica's answered requests are in the figures (their records are written after)
    cfg = await gw.configs.get(session, principal.tenant_id, fresh=True)
    return {
        "tenantId": principal.tenant_id,
        **cfg.doc(),
        "status": await _status(gw, session, principal.tenant_id, cfg),
    }


@router.patch("/admin/ai/config", summary="Change the tenant's AI configuration (any subset of fields)", response_model=ConfigChanged, response_model_exclude_unset=True)
async def patch_config(
    gw: GatewayDep,
    body: TenantAIConfigPatch,
    session: SessionDep,
    principal: Admin,
) -> dict[str, Any]:
    try:
        cfg, changed = await gw.configs.update(session, principal.tenant_id, body, principal.subject)
    except ValidationError as exc:
        raise Unprocessable.fields(field_errors(exc, ("body",))) from None
    return {"tenantId": principal.tenant_id, **cfg.doc(), "changedFields": changed}


@router.get(
    "/admin/ai/usage", summary="AI usage: requests, LLM calls, tokens and spend, by day and operation",
    response_model=Usage, response_model_exclude_unset=True,
)
async def usage(
    gw: GatewayDep,
    session: SessionDep,
    principal: ConfigReader,
    range_: Range = Query("30d", alias="range"),
) -> dict[str, Any]:
    await gw.flush()  # this replica's answered requests are in the figures
    tenant = principal.tenant_id
    cfg = await gw.configs.get(session, tenant, fresh=True)
    now = gw.clock.now()
    since = now - timedelta(days=RANGE_DAYS[range_])
    repo = AuditRepository.for_tenant(session, tenant)
    days = await repo.by_day(since, cfg.timezone)
    ops = [o for o in await repo.by_operation(since) if o["operation"] is not None]
    totals = {
        k: sum(d[k] for d in days)
        for k in (
            "requests",
            "llm",
            "cache",
            "fallback",
            "llm_calls",
            "cost",
            "input_tokens",
            "output_tokens",
        )
    }
    return {
        "tenantId": tenant,
        "range": range_,
        "from": since.isoformat(),
        "to": now.isoformat(),
        "currency": "USD",
        "totals": {
            "requests": totals["requests"],
            "llm": totals["llm"],
            "cache": totals["cache"],
            "fallback": totals["fallback"],
            "llmCalls": totals["llm_calls"],
            "costUsd": usd(totals["cost"]),
            "inputTokens": totals["input_tokens"],
            "outputTokens": totals["output_tokens"],
        },
        "byDay": [
            {
                "date": d["day"],
                "requests": d["requests"],
                "llm": d["llm"],
                "cache": d["cache"],
                "fallback": d["fallback"],
                "llmCalls": d["llm_calls"],
                "costUsd": usd(d["cost"]),
                "inputTokens": d["input_tokens"],
                "outputTokens": d["output_tokens"],
            }
            for d in days
        ],
        "byOperation": [
            {
                "operation": o["operation"],
                "requests": o["requests"],
                "llm": o["llm"],
                "cache": o["cache"],
                "fallback": o["fallback"],
                "llmCalls": o["llm_calls"],
                "costUsd": usd(o["cost"]),
            }
            for o in ops
        ],
        "budget": await _status(gw, session, tenant, cfg),
    }


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@router.get(
    "/admin/ai/quality", summary="AI quality: fallback and error rates, breaker events, latency, spend",
    response_model=Quality, response_model_exclude_unset=True,
)
async def quality(
    gw: GatewayDep,
    session: SessionDep,
    principal: ConfigReader,
    range_: Range = Query("30d", alias="range"),
) -> dict[str, Any]:
    await gw.flush()  # this replica's answered requests are in the figures
    tenant = principal.tenant_id
    since = gw.clock.now() - timedelta(days=RANGE_DAYS[range_])
    repo = AuditRepository.for_tenant(session, tenant)
    rows = await repo.by_operation(since)
    total = next((r for r in rows if r["operation"] is None), None)
    breaker = await repo.breaker_events(since)

    def metrics(r: dict[str, Any] | None) -> dict[str, Any]:
        if r is None:
            r = {
                "requests": 0,
                "llm": 0,
                "cache": 0,
                "fallback": 0,
                "with_errors": 0,
                "llm_calls": 0,
                "cost": 0,
                "avg_latency": 0,
                "p50": 0,
                "p95": 0,
                "p99": 0,
                "circuit_open": 0,
            }
        n = r["requests"]
        return {
            "totalRequests": n,
            "totalLLMCalls": r["llm_calls"],
            "fallbackRate": _rate(r["fallback"], n),
            "errorRate": _rate(r["with_errors"], n),
            "cacheHitRate": _rate(r["cache"], n),
            "avgLatencyMs": round(float(r["avg_latency"]), 1),
            "p50LatencyMs": round(float(r["p50"]), 1),
            "p95LatencyMs": round(float(r["p95"]), 1),
            "p99LatencyMs": round(float(r["p99"]), 1),
            "totalCostUsd": usd(r["cost"]),
            "requestsRefusedByOpenCircuit": r["circuit_open"],
        }

    by_op = {r["operation"]: r for r in rows if r["operation"] is not None}
    content, segment = by_op.get("content.generate"), by_op.get("segment.parse")
    return {
        "tenantId": tenant,
        "range": range_,
        "systemMetrics": {
            **metrics(total),
            "circuitBreakerEvents": {
                "opened": breaker.get("crm.ai.circuit_breaker.opened", 0),
                "closed": breaker.get("crm.ai.circuit_breaker.closed", 0),
            },
        },
        "fallbackReasons": await repo.fallback_reasons(since),
        "byOperation": {name: metrics(r) for name, r in by_op.items()},
        "contentMetrics": {
            "averageVariantCount": round(float(content["avg_variants"] or 0), 2) if content else None
        },
        "segmentMetrics": {
            "parseSuccessRate": round(float(segment["parse_success"] or 0), 4) if segment else None,
            "avgAssumptionsCount": round(float(segment["avg_assumptions"] or 0), 2) if segment else None,
        },
        "circuits": gw.breakers.states(),
    }


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: str = Field(min_length=1, max_length=100)
    input: dict[str, Any]


@router.post(
    "/admin/ai/test", summary="Run an operation for your tenant, governed as usual; nothing is sent onward",
    response_model=TestRun, response_model_exclude_unset=True,
)
async def test_operation(
    gw: GatewayDep, body: TestRequest, principal: Tester
) -> dict[str, Any]:
    try:
        result = await gw.run(
            principal.tenant_id, body.operation, body.input, origin="admin-test", was_used=False
        )
    except UnknownAIOperation as exc:
        raise Unprocessable(str(exc), field="body.operation") from None
    except ValidationError as exc:
        raise Unprocessable.fields(field_errors(exc, ("body", "input"))) from None
    return {"operation": body.operation, "result": result, "sentOnward": False}


@router.get("/ai/explain/{decision_id}", responses=error_responses(404), summary="Why the AI decided what it did (AIDecisionLog, no PII)", response_model=Explanation, response_model_exclude_unset=True)
async def explain_decision(
    decision_id: str,
    gw: GatewayDep,
    session: SessionDep,
    principal: Explainer,
) -> dict[str, Any]:
    await gw.flush()  # a decision this replica just answered is explainable at once
    row = await AuditRepository.for_tenant(session, principal.tenant_id).get(decision_id[:100])
    if row is None:
        raise NotFound(f"no AI decision {decision_id!r}")
    return explain(row)
