"""The gateway: the one way out to an LLM. Every operation, whoever calls it, goes through the same steps:

  config -> feature toggle -> sanitise input (scrub, field policy, consent) -> injection screen -> cache
  -> for each model of the chain (preferred -> fallback model):
        breaker -> rate (throttle) -> reserve worst-case cost -> call (retries honour retry-after)
        -> validate output (schema, screening, nh3, tokens; one retry when invalid)
  -> else the operation's fallback (templates / rules)
  -> settle real cost, threshold actions, events, cache, AIDecisionLog  (one transaction)

No transaction is held while the provider is called: the reservation commits first, the settlement after.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_ai_gateway.budget.periods import periods_at
from fairway_ai_gateway.budget.pricing import PriceTable
from fairway_ai_gateway.budget.service import BudgetService
from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_ai_gateway.config.service import ConfigService
from fairway_ai_gateway.gateway.cache import CacheRepository
from fairway_ai_gateway.gateway.llm import LlmPath
from fairway_ai_gateway.gateway.outcome import Answer, Decision, Outcome, UnknownAIOperation
from fairway_ai_gateway.gateway.record import Recorder
from fairway_ai_gateway.operations import OPERATIONS, Context, Operation
from fairway_ai_gateway.privacy.scrub import Scrubber
from fairway_ai_gateway.provider.breaker import Breakers
from fairway_ai_gateway.provider.client import ProviderClient
from fairway_ai_gateway.safety.injection import PromptGuard
from fairway_ai_gateway.settings import Settings
from fairway_ai_gateway.sql import HotPool
from fairway_chassis import Clock, SystemClock
from fairway_events import new_event_id

log = structlog.get_logger("fairway.ai-gateway")
T = TypeVar("T")


__all__ = ["Answer", "Gateway", "Outcome", "UnknownAIOperation"]


def _hash(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


class Gateway:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = SystemClock(),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.configs = ConfigService(
            default_timezone=settings.default_timezone, cache_seconds=settings.config_cache_seconds
        )
        self.budget = BudgetService(reservation_ttl=settings.reservation_ttl_seconds)
        self.breakers = Breakers(
            failure_threshold=settings.breaker_failure_threshold,
            success_threshold=settings.breaker_success_threshold,
            open_seconds=settings.breaker_open_seconds,
            half_open_probes=settings.breaker_half_open_probes,
            clock=monotonic,
        )
        self.prices = PriceTable(settings.prices_per_mtok)
        for logical, model_id in settings.model_ids.items():
            self.prices.price(model_id)  # fail at start, not on the first call, when a model has no price
            if logical not in ("CLAUDE_HAIKU", "CLAUDE_SONNET"):
                raise ValueError(f"model_ids: unknown logical model {logical!r}")
        self.scrubber = Scrubber(settings.default_region)
        self.guard = PromptGuard()
        self.provider: ProviderClient | None = (
            None
            if settings.offline
            else ProviderClient(
                api_key=settings.anthropic_api_key or "",
                base_url=settings.anthropic_base_url,
                timeout=settings.provider_timeout_seconds,
                tracing=settings.provider_tracing,
            )
        )
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.hot: HotPool | None = None
        self.llm = LlmPath(settings, budget=self.budget, breakers=self.breakers, prices=self.prices,
                           provider=self.provider, clock=clock, monotonic=monotonic, sleep=sleep, hot=self._hot)
        self.recorder = Recorder(settings, budget=self.budget, sessionmaker=lambda: self._sm, hot=self._hot)

    def bind(self, sessionmaker: async_sessionmaker[AsyncSession], hot: HotPool | None = None) -> None:
        """`hot`: the asyncpg pool for the statements every LLM call makes (reserve; settle + audit). Without
        one, a pool of `hot_pool_size` connections to the sessionmaker's database is opened on first use."""
        self.sessionmaker = sessionmaker
        if hot is None:
            url = sessionmaker.kw["bind"].url.render_as_string(hide_password=False)
            hot = HotPool(url, size=self.settings.hot_pool_size)
        self.hot = hot

    async def _hot(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        assert self.hot is not None, "Gateway.bind() is called when the service starts"
        return await self.hot.run(fn)

    async def close(self) -> None:
        await self.flush()  # a clean shutdown loses no record
        if self.provider is not None:
            await self.provider.close()
        if self.hot is not None:
            await self.hot.close()

    @property
    def _sm(self) -> async_sessionmaker[AsyncSession]:
        assert self.sessionmaker is not None, "Gateway.bind(sessionmaker) is called when the service starts"
        return self.sessionmaker

    # -- entry points ----------------------------------------------------------------------------------------
    def operation(self, name: str) -> Operation:
        op = OPERATIONS.get(name)
        if op is None:
            raise UnknownAIOperation(f"unknown operation {name!r} (known: {', '.join(sorted(OPERATIONS))})")
        return op

    async def run(
        self,
        tenant_id: str,
        operation: str,
        payload: dict[str, Any],
        *,
        origin: str = "rpc",
        was_used: bool = True,
    ) -> dict[str, Any]:
        """Answer one request. Raises pydantic.ValidationError for a bad payload, UnknownAIOperation."""
        result, _ = await self.run_detailed(tenant_id, operation, payload, origin=origin, was_used=was_used)
        return result

    async def run_detailed(
        self,
        tenant_id: str,
        operation: str,
        payload: dict[str, Any],
        *,
        origin: str = "rpc",
        was_used: bool = True,
    ) -> tuple[dict[str, Any], Outcome]:
        op = self.operation(operation)
        request = op.request_model.model_validate(payload)
        started = self.monotonic()
        now = self.clock.now()
        decision_id = new_event_id()
        out = Outcome()
        cfg = await self.configs.current(self._hot, tenant_id)
        periods = periods_at(now, cfg.timezone)
        ctx = Context(
            tenant_id=tenant_id,
            cfg=cfg,
            request=request,
            now=now,
            scrubber=self.scrubber,
            guard=self.guard,
            max_caller_text=self.settings.max_caller_text,
        )
        prompt = op.prepare(ctx)
        chain = self.chain(op, cfg)
        answer = Answer(None, None, None)
        source = "FALLBACK"
        if not getattr(cfg.features, op.feature):
            answer.reason = "FEATURE_DISABLED"
        elif ctx.injection:
            answer.reason = "INJECTION_SUSPECTED"
            ctx.warnings.append(
                "Part of the input looked like instructions to the model, so no LLM was used."
            )
        elif self.provider is None:
            answer.reason = "OFFLINE"
        elif not chain:
            answer.reason = "NO_MODEL"
        else:
            cache_key = None
            material = op.cache_material(ctx, prompt)
            if material is not None:
                cache_key = _hash({"op": op.name, "chain": chain, "m": material})
                async with self._sm() as session:
                    hit = await CacheRepository.for_tenant(session, tenant_id).get(cache_key, now)
                if hit is not None:
                    try:
                        answer = Answer(op.result(ctx, op.output_model.model_validate(hit[1])), hit[0], None)
                        source = "CACHE"
                    except ValueError:
                        log.warning("unreadable cache entry ignored", operation=op.name)
            if answer.body is None:
                answer = await self.llm.call_chain(
                    ctx, op, prompt, chain, periods, out, started, cache_key, decision_id
                )
                if answer.body is not None:
                    source = "LLM"
        if answer.body is None:
            answer.body, answer.model = op.fallback(ctx), op.fallback_model_name
        body = answer.body
        summary = op.output_summary(body)
        confidence = op.confidence(body)
        body = op.restore(ctx, body)
        result = op.result_model.model_validate(
            {
                **body,
                "source": source,
                "decisionId": decision_id,
                "model": answer.model,
                "fallbackReason": answer.reason if source == "FALLBACK" else None,
                "warnings": list(dict.fromkeys([*body.get("warnings", []), *ctx.warnings])),
            }
        ).model_dump(mode="json", by_alias=True)
        out.total_seconds = self.monotonic() - started
        decision = Decision(
            ctx=ctx,
            op=op,
            cfg=cfg,
            periods=periods,
            decision_id=decision_id,
            source=source,
            model=answer.model,
            reason=answer.reason if source == "FALLBACK" else None,
            summary=summary,
            confidence=confidence,
            origin=origin,
            was_used=was_used,
            chain=chain,
        )
        await self.recorder.record(decision, out)
        return result, out

    def chain(self, op: Operation, cfg: TenantAIConfig) -> list[str]:
        """Logical models to try in order: the operation's choice for the tier, then the tenant's fallback."""
        first = op.model_for(cfg)
        models = [first] if first in self.settings.model_ids else []
        if (
            cfg.fallbackModel != "TEMPLATE_ONLY"
            and cfg.fallbackModel != first
            and cfg.fallbackModel in self.settings.model_ids
        ):
            models.append(cfg.fallbackModel)
        return models

    # -- records ------------------------------------------------------------------------------------------
    @property
    def pending_records(self) -> int:
        return self.recorder.pending

    async def flush(self) -> None:
        """Wait for the records still being written (readers of the decision log in this process call this
        first, so a staff member sees a request that has been answered; `close` calls it)."""
        await self.recorder.flush()

    async def sweep(self) -> tuple[int, int]:
        """Charge and log reservations whose request never settled, and purge expired cache entries."""
        return await self.recorder.sweep(self.clock.now())
