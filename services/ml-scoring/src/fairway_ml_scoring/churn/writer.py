"""Stored predictions on the serving path: written and read in batches shared by concurrent requests.

Writes are group-committed: a request hands its row over and waits until the INSERT holding it has
committed, so a predictionId in a response always exists (POST actual-churn can use it at once) and a 2xx
still means "stored". Reads of "the member's last still-valid prediction" for concurrent requests go in one
query. Both run on pooled autocommit connections (a single statement is atomic on its own: one round trip
instead of BEGIN, statement, COMMIT) through Core, not an ORM session. The writer is drained on shutdown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from fairway_ml_scoring.churn.batching import Coalescer
from fairway_ml_scoring.results.repository import PredictionBatch

Key = tuple[str, str, datetime]  # tenant, member, now


class PredictionWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 500) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._batches: Coalescer[dict[str, Any], None] = Coalescer(
            self._insert, name="ml-scoring prediction writer", max_batch=max_batch
        )

    async def add(self, row: dict[str, Any]) -> None:
        """Store one prediction row; returns once it is committed (raises if that statement failed)."""
        await self._batches.submit(row)

    async def close(self) -> None:
        await self._batches.close()

    async def _insert(self, rows: list[dict[str, Any]]) -> list[None]:
        async with self.engine.connect() as conn:
            await PredictionBatch(conn).add_many(rows)
        return [None] * len(rows)


class StoredPredictions:
    def __init__(self, engine: AsyncEngine, max_batch: int = 500) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._batches: Coalescer[Key, Any] = Coalescer(
            self._read, name="ml-scoring stored predictions", max_batch=max_batch
        )

    async def latest_valid(self, tenant_id: str, subject: str, now: datetime) -> Any:
        """The member's latest prediction still valid at `now`, with `changed_since` (see the repository)."""
        return await self._batches.submit((tenant_id, subject, now))

    async def _read(self, keys: list[Key]) -> list[Any]:
        async with self.engine.connect() as conn:
            rows = await PredictionBatch(conn).latest_valid_many(
                [(t, s) for t, s, _ in keys], min(now for _, _, now in keys)
            )
        latest = {(r.tenant_id, r.subject_id): r for r in rows}
        out = []
        for tenant_id, subject, now in keys:
            row = latest.get((tenant_id, subject))
            out.append(row if row is not None and row.valid_until > now else None)
        return out
