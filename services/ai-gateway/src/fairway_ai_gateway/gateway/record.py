"""The record of a request: settle its real cost, threshold alerts, events, cache and the AIDecisionLog row, in
one transaction; and the sweeper that charges and logs reservations no record ever settled."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_ai_gateway.audit.repository import AuditRepository, record_settled
from fairway_ai_gateway.budget.periods import Periods
from fairway_ai_gateway.budget.repository import ReservationSweep, Settled
from fairway_ai_gateway.budget.service import BudgetService
from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_ai_gateway.gateway.cache import CacheRepository, CacheSweep
from fairway_ai_gateway.gateway.outcome import Decision, Outcome
from fairway_ai_gateway.operations import OPERATIONS
from fairway_ai_gateway.provider.breaker import State
from fairway_ai_gateway.settings import Settings
from fairway_events import Envelope, outbox, registry
from fairway_events.contracts.ai import AICircuitBreakerClosed, AICircuitBreakerOpened, AIFallbackUsed

log = structlog.get_logger("fairway.ai-gateway")


class Recorder:
    def __init__(
        self,
        settings: Settings,
        *,
        budget: BudgetService,
        sessionmaker: Callable[[], async_sessionmaker[AsyncSession]],
        hot: Callable[[Callable[[Any], Awaitable[Any]]], Awaitable[Any]],
    ) -> None:
        self.settings = settings
        self.budget = budget
        self._sessionmaker = sessionmaker  # bound when the service starts, after the gateway is built
        self._hot = hot
        self._background: set[asyncio.Future[None]] = set()  # records written after their answer

    @property
    def _sm(self) -> async_sessionmaker[AsyncSession]:
        return self._sessionmaker()

    async def record(self, d: Decision, out: Outcome) -> None:
        ctx, op, cfg, periods, decision_id, source = d.ctx, d.op, d.cfg, d.periods, d.decision_id, d.source
        tenant = ctx.tenant_id
        input_summary = {
            **op.input_summary(ctx),
            "redactions": dict(Counter(ctx.redactions)),
            "injectionPatterns": sorted(set(ctx.injection)),
            "modelChain": d.chain,
            "qualityTier": cfg.qualityTier,
        }
        row = {
            "id": decision_id,
            "tenant_id": tenant,
            "operation": op.name,
            "decision_type": op.decision_type,
            "customer_id": ctx.customer_id,
            "model": d.model,
            "source": source,
            "fallback_reason": d.reason,
            "input_summary": input_summary,
            "output_summary": d.summary,
            "attempts": out.attempts,
            "confidence": d.confidence,
            "latency_ms": round(out.total_seconds * 1000),
            "input_tokens": out.input_tokens,
            "output_tokens": out.output_tokens,
            "cost_micros": out.cost,
            "llm_calls": out.llm_calls,
            "provider_errors": out.provider_errors,
            "was_used": d.was_used,
            "origin": d.origin,
            "created_at": ctx.now,
        }
        cache = None
        if out.cache_put is not None and cfg.cacheTTLHours > 0:
            key, model_name, output = out.cache_put
            cache = (key, model_name, output, ctx.now + timedelta(hours=cfg.cacheTTLHours))
        if source == "LLM" and len(out.settlements) == 1 and not out.transitions:
            # The common case, an LLM answer: written after the answer is sent (see _record_settled). Capped,
            # refused and fallback decisions, breaker changes and failed calls take the path below, which the
            # request awaits: their record is written before the caller hears of them.
            reservation, actual = out.settlements[0]
            record = self._record_settled(tenant, cfg, periods, row, reservation.id, actual, cache)
            if len(self._background) < 4 * self.settings.hot_pool_size:
                self._in_background(record)
            else:  # the database is behind: wait for it rather than pile up records in memory
                await record
            return
        events: list[Envelope] = []
        alert_keys: list[tuple[str, str, str]] = []
        async with self._sm() as session, session.begin():
            await AuditRepository.for_tenant(session, tenant).commit_asynchronously()
            last = None
            for reservation, actual in out.settlements:
                last = (
                    await self.budget.settle(
                        session, tenant_id=tenant, reservation=reservation, actual=actual
                    )
                    or last
                )
            if last is not None and out.cost:
                events, alert_keys = await self.budget.alerts(
                    session, tenant_id=tenant, cfg=cfg, settled=last, periods=periods
                )
            if source == "FALLBACK":
                events.append(
                    self._event(
                        tenant,
                        AIFallbackUsed(
                            decisionId=decision_id,
                            operation=op.name,
                            reason=d.reason or "UNKNOWN",
                            attemptedModels=list(dict.fromkeys(a["model"] for a in out.attempts)),
                        ),
                    )
                )
            for t in out.transitions:
                provider, _, model_id = t.circuit.partition(":")
                if t.new is State.OPEN:
                    events.append(
                        self._event(
                            tenant,
                            AICircuitBreakerOpened(
                                circuit=t.circuit,
                                provider=provider,
                                model=model_id,
                                consecutiveFailures=t.consecutive_failures,
                                openSeconds=self.settings.breaker_open_seconds,
                            ),
                        )
                    )
                elif t.new is State.CLOSED:
                    events.append(
                        self._event(
                            tenant,
                            AICircuitBreakerClosed(circuit=t.circuit, provider=provider, model=model_id),
                        )
                    )
                log.info("circuit breaker", circuit=t.circuit, old=t.old.value, new=t.new.value)
            if cache is not None:
                key, model_name, output, expires = cache
                await CacheRepository.for_tenant(session, tenant).put(
                    key=key,
                    operation=op.name,
                    model=model_name,
                    output=output,
                    expires_at=expires,
                )
            await AuditRepository.for_tenant(session, tenant).add(row)
            await outbox.append(session, *events)
        self.budget.remember(alert_keys)

    async def _record_settled(
        self,
        tenant: str,
        cfg: TenantAIConfig,
        periods: Periods,
        row: dict[str, Any],
        reservation_id: str,
        actual: int,
        cache: tuple[str, str, dict[str, Any], datetime] | None,
    ) -> None:
        """One statement settles, logs and caches; events only if a threshold was reached. Runs off the response
        path: if the process dies before it, the reservation stays and the sweeper charges its worst case and
        logs it as UNSETTLED, the same as a record lost to a database crash (see README, Durability)."""
        got = await self._hot(
            lambda conn: record_settled(conn, row, reservation_id=reservation_id, actual=actual, cache=cache)
        )
        if got is None:  # the sweeper took the reservation first and charged its worst case
            return
        settled = Settled(got["day_key"], got["day_cost"], got["month_key"], got["month_cost"])
        self.budget.seen(tenant, settled)
        if self.budget.alerts_pending(tenant, cfg, settled, periods):
            async with self._sm() as session, session.begin():
                events, keys = await self.budget.alerts(
                    session, tenant_id=tenant, cfg=cfg, settled=settled, periods=periods
                )
                await outbox.append(session, *events)
            self.budget.remember(keys)

    def _in_background(self, work: Awaitable[None]) -> None:
        async def logged() -> None:
            try:
                await work
            except Exception:
                log.exception("decision record failed; the sweeper will charge and log its reservation")

        task = asyncio.ensure_future(logged())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def pending(self) -> int:
        return len(self._background)

    async def flush(self) -> None:
        """Wait for the records still being written (readers of the decision log in this process call this
        first, so a staff member sees a request that has been answered; `close` calls it)."""
        while self._background:
            await asyncio.gather(*list(self._background))

    @staticmethod
    def _event(tenant_id: str, payload: Any) -> Envelope:
        return registry.envelope(payload, tenant_id=tenant_id, aggregate_id=tenant_id, source="ai-gateway")

    # -- housekeeping ---------------------------------------------------------------------------------------
    async def sweep(self, now: datetime) -> tuple[int, int]:
        """Charge and log reservations whose request never settled (a crashed replica, or a record lost with a
        database crash), and purge expired cache entries. Returns (orphans, cache entries purged)."""
        async with self._sm() as session, session.begin():
            orphans = await ReservationSweep(session).take_orphans(now)
            for o in orphans:
                op = OPERATIONS.get(o.operation)
                await AuditRepository.for_tenant(session, o.tenant_id).add(
                    {
                        "id": o.id,
                        "tenant_id": o.tenant_id,
                        "operation": o.operation,
                        "decision_type": op.decision_type if op else "UNKNOWN",
                        "customer_id": None,
                        "model": None,
                        "source": "UNSETTLED",
                        "fallback_reason": "RESERVATION_EXPIRED",
                        "input_summary": {"decisionId": o.decision_id},
                        "output_summary": {},
                        "attempts": [
                            {
                                "outcome": "UNSETTLED",
                                "detail": "the request never settled its reservation; "
                                "its worst-case cost stays charged",
                            }
                        ],
                        "confidence": None,
                        "latency_ms": 0,
                        "input_tokens": 0,
                        "output_tokens": 0,
                        "cost_micros": o.amount,
                        "llm_calls": 0,
                        "provider_errors": 0,
                        "was_used": False,
                        "origin": "sweeper",
                        "created_at": o.created_at,
                    }
                )
        async with self._sm() as session, session.begin():
            purged = await CacheSweep(session).purge(now)
        return len(orphans), purged
