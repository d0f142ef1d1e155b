"""SQL of the AIDecisionLog: write one row per request, read one back, and aggregate usage and quality."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from fairway_ai_gateway.db import decision_log
from fairway_ai_gateway.sql import Statement
from fairway_chassis import RepositoryBase

BREAKER_EVENTS = ("crm.ai.circuit_breaker.opened", "crm.ai.circuit_breaker.closed")

_BY_DAY = text("""
SELECT to_char(created_at AT TIME ZONE :tz, 'YYYY-MM-DD') AS day,
       count(*) AS requests,
       count(*) FILTER (WHERE source = 'LLM') AS llm,
       count(*) FILTER (WHERE source = 'CACHE') AS cache,
       count(*) FILTER (WHERE source = 'FALLBACK') AS fallback,
       coalesce(sum(llm_calls), 0)::bigint AS llm_calls,
       coalesce(sum(cost_micros), 0)::bigint AS cost,
       coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(output_tokens), 0)::bigint AS output_tokens
FROM ai_decision_log WHERE tenant_id = :tenant AND created_at >= :since
GROUP BY 1 ORDER BY 1
""")

_BY_OPERATION = text("""
SELECT operation,
       count(*) AS requests,
       count(*) FILTER (WHERE source = 'LLM') AS llm,
       count(*) FILTER (WHERE source = 'CACHE') AS cache,
       count(*) FILTER (WHERE source = 'FALLBACK') AS fallback,
       count(*) FILTER (WHERE provider_errors > 0) AS with_errors,
       coalesce(sum(llm_calls), 0)::bigint AS llm_calls,
       coalesce(sum(cost_micros), 0)::bigint AS cost,
       coalesce(avg(latency_ms), 0) AS avg_latency,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 0) AS p50,
       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), 0) AS p95,
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), 0) AS p99,
       count(*) FILTER (WHERE fallback_reason = 'CIRCUIT_OPEN') AS circuit_open,
       avg((output_summary->>'variantCount')::int) FILTER (WHERE operation = 'content.generate') AS avg_variants,
       avg(CASE WHEN (output_summary->>'ruleCount')::int > 0 THEN 1.0 ELSE 0.0 END)
           FILTER (WHERE operation = 'segment.parse') AS parse_success,
       avg(jsonb_array_length(output_summary->'assumptions'))
           FILTER (WHERE operation = 'segment.parse') AS avg_assumptions
FROM ai_decision_log WHERE tenant_id = :tenant AND created_at >= :since
GROUP BY ROLLUP (operation)
""")

_FALLBACK_REASONS = text("""
SELECT fallback_reason, count(*) AS n FROM ai_decision_log
WHERE tenant_id = :tenant AND created_at >= :since AND source = 'FALLBACK'
GROUP BY 1 ORDER BY 2 DESC
""")

# The outbox is the service's audit log of events (conventions): breaker transitions are read from it.
_BREAKER = text("""
SELECT event_type, count(*) AS n FROM event_outbox
WHERE tenant_id = :tenant AND occurred_at >= :since
  AND event_type IN ('crm.ai.circuit_breaker.opened', 'crm.ai.circuit_breaker.closed')
GROUP BY 1
""")


class AuditRepository(RepositoryBase):
    """One tenant's AIDecisionLog."""

    async def commit_asynchronously(self) -> None:
        """This transaction need not wait for its WAL flush (see record_settled for why that is safe)."""
        await self.session.execute(text("SELECT set_config('synchronous_commit', 'off', true)"))

    async def add(self, row: dict[str, Any]) -> None:
        await self.session.execute(decision_log.insert().values(**self.row(**row)))

    async def get(self, decision_id: str) -> dict[str, Any] | None:
        row = (
            (
                await self.session.execute(
                    select(decision_log).where(
                        self.owns(decision_log), decision_log.c.id == decision_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    async def by_day(self, since: datetime, tz: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(_BY_DAY, {"tenant": self.tenant_id, "since": since, "tz": tz})
        return [dict(r) for r in rows.mappings()]

    async def by_operation(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self.session.execute(_BY_OPERATION, {"tenant": self.tenant_id, "since": since})
        return [dict(r) for r in rows.mappings()]

    async def fallback_reasons(self, since: datetime) -> dict[str, int]:
        rows = await self.session.execute(_FALLBACK_REASONS, {"tenant": self.tenant_id, "since": since})
        return {r.fallback_reason or "UNKNOWN": r.n for r in rows}

    async def breaker_events(self, since: datetime) -> dict[str, int]:
        rows = await self.session.execute(_BREAKER, {"tenant": self.tenant_id, "since": since})
        return {r.event_type: r.n for r in rows}


# The common case in one statement: settle the one reservation of a request, write its decision log row and,
# for cacheable content, its cache entry. A single statement is atomic on its own (no BEGIN/COMMIT round trips),
# and it commits asynchronously (set_config(..., true) applies to this statement's own transaction): the answer
# does not wait for a WAL flush. If the database crashed before the flush, the reservation it settles would still
# be there (the reservation is committed synchronously before the provider is called), and the sweeper charges it
# at its worst case: a lost record can cost the tenant headroom, never push spend past a cap.
_RECORD_SETTLED = Statement("""
WITH s AS (
    SELECT set_config('synchronous_commit', 'off', true) AS mode
), r AS (
    DELETE FROM ai_reservation WHERE id = :reservation_id AND tenant_id = :tenant_id
    RETURNING amount, day_key, month_key
), b AS (
    UPDATE ai_budget b SET
        day_cost = CASE WHEN b.day_key = r.day_key THEN GREATEST(b.day_cost - r.amount + CAST(:actual AS BIGINT), 0)
                        ELSE b.day_cost END,
        month_cost = CASE WHEN b.month_key = r.month_key
                          THEN GREATEST(b.month_cost - r.amount + CAST(:actual AS BIGINT), 0) ELSE b.month_cost END
    FROM r WHERE b.tenant_id = :tenant_id
    RETURNING b.day_key, b.day_cost, b.month_key, b.month_cost
), c AS (
    INSERT INTO ai_content_cache (tenant_id, cache_key, operation, model, output, expires_at)
    SELECT :tenant_id, CAST(:cache_key AS TEXT), :operation, CAST(:cache_model AS TEXT),
           CAST(:cache_output AS JSONB), CAST(:cache_expires AS TIMESTAMPTZ)
    WHERE CAST(:cache_key AS TEXT) IS NOT NULL
    ON CONFLICT (tenant_id, cache_key) DO UPDATE SET model = EXCLUDED.model, output = EXCLUDED.output,
        expires_at = EXCLUDED.expires_at, created_at = now()
), d AS (
    INSERT INTO ai_decision_log (id, tenant_id, operation, decision_type, customer_id, model, source,
        fallback_reason, input_summary, output_summary, attempts, confidence, latency_ms, input_tokens,
        output_tokens, cost_micros, llm_calls, provider_errors, was_used, origin, created_at)
    VALUES (:id, :tenant_id, :operation, :decision_type, :customer_id, :model, :source, :fallback_reason,
        CAST(:input_summary AS JSONB), CAST(:output_summary AS JSONB), CAST(:attempts AS JSONB), :confidence,
        :latency_ms, :input_tokens, :output_tokens, :cost_micros, :llm_calls, :provider_errors, :was_used, :origin,
        :created_at)
)
SELECT s.mode, b.day_key, b.day_cost, b.month_key, b.month_cost FROM s LEFT JOIN b ON true
""")


async def record_settled(
    conn: Any,
    row: dict[str, Any],
    *,
    reservation_id: str,
    actual: int,
    cache: tuple[str, str, dict[str, Any], datetime] | None,
) -> Any:
    """Settle, log (and cache) in one statement on `conn` (asyncpg, or an SQLAlchemy connection); the budget row
    after settlement, or None when the reservation was already released by the sweeper."""
    key, model, output, expires = cache if cache else (None, None, None, None)
    got = await _RECORD_SETTLED.first(
        conn,
        {
            **row,
            "input_summary": _json(row["input_summary"]),
            "output_summary": _json(row["output_summary"]),
            "attempts": _json(row["attempts"]),
            "reservation_id": reservation_id,
            "actual": actual,
            "cache_key": key,
            "cache_model": model,
            "cache_output": None if output is None else _json(output),
            "cache_expires": expires,
        },
    )
    return None if got is None or got["day_key"] is None else got


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
