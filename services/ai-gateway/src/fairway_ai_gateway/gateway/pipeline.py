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
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_ai_gateway.audit.repository import AuditRepository, record_settled
from fairway_ai_gateway.budget.periods import Periods, periods_at
from fairway_ai_gateway.budget.pricing import PriceTable
from fairway_ai_gateway.budget.repository import BudgetRepository, Settled
from fairway_ai_gateway.budget.service import BudgetService, Refusal, Reservation
from fairway_ai_gateway.config.schemas import TenantAIConfig
from fairway_ai_gateway.config.service import ConfigService
from fairway_ai_gateway.gateway.cache import CacheRepository
from fairway_ai_gateway.operations import OPERATIONS, Context, Operation, Prompt
from fairway_ai_gateway.privacy.scrub import Scrubber
from fairway_ai_gateway.provider.breaker import Breakers, CircuitBreaker, State, Transition
from fairway_ai_gateway.provider.client import PROVIDER, Completion, ProviderClient, ProviderError
from fairway_ai_gateway.safety.injection import PromptGuard
from fairway_ai_gateway.safety.output import OutputInvalid
from fairway_ai_gateway.settings import Settings
from fairway_ai_gateway.sql import HotPool
from fairway_chassis import Clock, SystemClock
from fairway_events import Envelope, new_event_id, outbox, registry
from fairway_events.contracts.ai import AICircuitBreakerClosed, AICircuitBreakerOpened, AIFallbackUsed

log = structlog.get_logger("fairway.ai-gateway")
T = TypeVar("T")


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
        self._background: set[asyncio.Future[None]] = set()  # records written after their answer

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
                    hit = await CacheRepository(session).get(tenant_id, cache_key, now)
                if hit is not None:
                    try:
                        answer = Answer(op.result(ctx, op.output_model.model_validate(hit[1])), hit[0], None)
                        source = "CACHE"
                    except ValueError:
                        log.warning("unreadable cache entry ignored", operation=op.name)
            if answer.body is None:
                answer = await self._call_chain(
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
        await self._record(
            ctx,
            op,
            out,
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

    # -- the LLM path ---------------------------------------------------------------------------------------
    async def _call_chain(
        self,
        ctx: Context,
        op: Operation,
        prompt: Prompt,
        chain: list[str],
        periods: Periods,
        out: Outcome,
        started: float,
        cache_key: str | None,
        decision_id: str,
    ) -> Answer:
        reason = "PROVIDER_ERROR"
        deadline = started + self.settings.request_deadline_seconds
        for logical in chain:
            model_id = self.settings.model_ids[logical]
            breaker = self.breakers.get(PROVIDER, model_id)
            if not breaker.available():
                out.attempts.append({"model": model_id, "outcome": "CIRCUIT_OPEN"})
                reason = "CIRCUIT_OPEN"
                continue
            note = ""
            retried_invalid = False
            while True:
                factor = self.budget.current_factor(ctx.tenant_id, ctx.cfg, periods)
                if not self.budget.try_rate(ctx.tenant_id, ctx.cfg, factor):
                    out.attempts.append({"model": model_id, "outcome": "THROTTLED", "factor": factor})
                    return Answer(None, None, "THROTTLED" if factor < 1 else "RATE_LIMITED")
                user = prompt.user + note
                amount = self.prices.worst_case(model_id, prompt.system + user, prompt.max_tokens)
                reservation = await self._reserve(ctx, op, amount, periods, decision_id)
                if isinstance(reservation, Refusal):
                    out.attempts.append(
                        {"model": model_id, "outcome": reservation.reason, "detail": reservation.detail}
                    )
                    ctx.warnings.append(reservation.detail)
                    return Answer(None, None, reservation.reason)
                allowed, moves = breaker.allow()
                out.transitions += moves
                if not allowed:
                    out.settlements.append((reservation, 0))
                    out.attempts.append({"model": model_id, "outcome": "CIRCUIT_OPEN"})
                    reason = "CIRCUIT_OPEN"
                    break
                try:
                    completion = await self._complete(
                        breaker, model_id, prompt.system, user, prompt.max_tokens, out, deadline
                    )
                except ProviderError as exc:
                    out.settlements.append((reservation, 0))
                    reason = {"TIMEOUT": "TIMEOUT", "CIRCUIT": "CIRCUIT_OPEN"}.get(exc.kind, "PROVIDER_ERROR")
                    break
                cost = self.prices.cost(model_id, completion.input_tokens, completion.output_tokens)
                if cost > reservation.amount:
                    log.warning(
                        "provider reported more usage than the worst case",
                        model=model_id,
                        reserved=reservation.amount,
                        actual=cost,
                    )
                out.settlements.append((reservation, cost))
                out.cost += cost
                out.input_tokens += completion.input_tokens
                out.output_tokens += completion.output_tokens
                warnings_before = list(ctx.warnings)
                try:
                    output = op.accept(ctx, prompt, completion.text)
                except OutputInvalid as exc:
                    ctx.warnings[:] = warnings_before
                    out.attempts[-1].update(outcome="INVALID_OUTPUT", detail=exc.reason)
                    if retried_invalid:
                        return Answer(None, None, "INVALID_OUTPUT")
                    retried_invalid = True
                    note = (
                        f"\n\nYour previous answer could not be used ({exc.reason}). Answer again, following "
                        "the OUTPUT FORMAT and every rule exactly."
                    )
                    continue
                if cache_key is not None:
                    out.cache_put = (cache_key, logical, output.model_dump(mode="json", by_alias=True))
                return Answer(op.result(ctx, output), logical, None)
        return Answer(None, None, reason)

    async def _reserve(
        self, ctx: Context, op: Operation, amount: int, periods: Periods, decision_id: str
    ) -> Reservation | Refusal:
        # The one durable write before the provider is called: it is what keeps spend under the caps.
        return await self._hot(
            lambda conn: self.budget.reserve(
                conn,
                tenant_id=ctx.tenant_id,
                cfg=ctx.cfg,
                amount=amount,
                reservation_id=new_event_id(),
                periods=periods,
                now=self.clock.now(),
                decision_id=decision_id,
                operation=op.name,
            )
        )

    async def _complete(
        self,
        breaker: CircuitBreaker,
        model_id: str,
        system: str,
        user: str,
        max_tokens: int,
        out: Outcome,
        deadline: float,
    ) -> Completion:
        assert self.provider is not None
        s = self.settings
        attempt = 0
        while True:
            t0 = self.monotonic()
            timeout = max(0.5, min(s.provider_timeout_seconds, deadline - t0))
            out.llm_calls += 1
            try:
                c = await self.provider.complete(
                    model_id=model_id, system=system, user=user, max_tokens=max_tokens, timeout=timeout
                )
            except ProviderError as exc:
                spent = self.monotonic() - t0
                out.provider_seconds += spent
                out.provider_errors += 1
                out.transitions += breaker.failure() if exc.counts_against_breaker else breaker.success()
                out.attempts.append(
                    {
                        "model": model_id,
                        "outcome": exc.kind,
                        "status": exc.status,
                        "retryAfter": exc.retry_after,
                        "ms": round(spent * 1000),
                    }
                )
                if not exc.retryable or attempt >= s.provider_max_retries:
                    raise
                wait = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else s.provider_backoff_seconds * (2**attempt) * (0.75 + random.random() / 2)
                )  # noqa: S311
                if wait > s.provider_max_retry_after_seconds or self.monotonic() + wait > deadline:
                    raise
                await self.sleep(wait)
                allowed, moves = breaker.allow()
                out.transitions += moves
                if not allowed:
                    out.attempts.append({"model": model_id, "outcome": "CIRCUIT_OPEN"})
                    raise ProviderError("CIRCUIT", "circuit opened while retrying") from None
                attempt += 1
                continue
            spent = self.monotonic() - t0
            out.provider_seconds += spent
            out.transitions += breaker.success()
            out.attempts.append(
                {
                    "model": model_id,
                    "outcome": "OK",
                    "ms": round(spent * 1000),
                    "inputTokens": c.input_tokens,
                    "outputTokens": c.output_tokens,
                }
            )
            return c

    # -- the record -------------------------------------------------------------------------------------------
    async def _record(
        self,
        ctx: Context,
        op: Operation,
        out: Outcome,
        *,
        cfg: TenantAIConfig,
        periods: Periods,
        decision_id: str,
        source: str,
        model: str | None,
        reason: str | None,
        summary: dict[str, Any],
        confidence: float | None,
        origin: str,
        was_used: bool,
        chain: list[str],
    ) -> None:
        tenant = ctx.tenant_id
        input_summary = {
            **op.input_summary(ctx),
            "redactions": dict(Counter(ctx.redactions)),
            "injectionPatterns": sorted(set(ctx.injection)),
            "modelChain": chain,
            "qualityTier": cfg.qualityTier,
        }
        row = {
            "id": decision_id,
            "tenant_id": tenant,
            "operation": op.name,
            "decision_type": op.decision_type,
            "customer_id": ctx.customer_id,
            "model": model,
            "source": source,
            "fallback_reason": reason,
            "input_summary": input_summary,
            "output_summary": summary,
            "attempts": out.attempts,
            "confidence": confidence,
            "latency_ms": round(out.total_seconds * 1000),
            "input_tokens": out.input_tokens,
            "output_tokens": out.output_tokens,
            "cost_micros": out.cost,
            "llm_calls": out.llm_calls,
            "provider_errors": out.provider_errors,
            "was_used": was_used,
            "origin": origin,
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
            await AuditRepository(session).commit_asynchronously()
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
                            reason=reason or "UNKNOWN",
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
                await CacheRepository(session).put(
                    tenant_id=tenant,
                    key=key,
                    operation=op.name,
                    model=model_name,
                    output=output,
                    expires_at=expires,
                )
            await AuditRepository(session).add(row)
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
    def pending_records(self) -> int:
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
    async def sweep(self) -> tuple[int, int]:
        """Charge and log reservations whose request never settled (a crashed replica, or a record lost with a
        database crash), and purge expired cache entries. Returns (orphans, cache entries purged)."""
        now = self.clock.now()
        async with self._sm() as session, session.begin():
            orphans = await BudgetRepository(session).take_orphans(now)
            audit = AuditRepository(session)
            for o in orphans:
                op = OPERATIONS.get(o.operation)
                await audit.add(
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
            purged = await CacheRepository(session).purge(now)
        return len(orphans), purged
