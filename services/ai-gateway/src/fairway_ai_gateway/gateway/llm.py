"""The LLM path of one request: for each model of the chain, breaker -> rate -> reserve the worst-case cost ->
call (retries honour retry-after) -> validate the output (one retry when invalid)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from fairway_ai_gateway.budget.periods import Periods
from fairway_ai_gateway.budget.pricing import PriceTable
from fairway_ai_gateway.budget.service import BudgetService, Refusal, Reservation
from fairway_ai_gateway.gateway.outcome import Answer, Outcome
from fairway_ai_gateway.operations import Context, Operation, Prompt
from fairway_ai_gateway.provider.breaker import Breakers, CircuitBreaker
from fairway_ai_gateway.provider.client import PROVIDER, Completion, ProviderClient, ProviderError
from fairway_ai_gateway.safety.output import OutputInvalid
from fairway_ai_gateway.settings import Settings
from fairway_chassis import Clock
from fairway_events import new_event_id

log = structlog.get_logger("fairway.ai-gateway")


class LlmPath:
    def __init__(
        self,
        settings: Settings,
        *,
        budget: BudgetService,
        breakers: Breakers,
        prices: PriceTable,
        provider: ProviderClient | None,
        clock: Clock,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        hot: Callable[[Callable[[Any], Awaitable[Any]]], Awaitable[Any]],
    ) -> None:
        self.settings = settings
        self.budget = budget
        self.breakers = breakers
        self.prices = prices
        self.provider = provider
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self._hot = hot

    async def call_chain(
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
