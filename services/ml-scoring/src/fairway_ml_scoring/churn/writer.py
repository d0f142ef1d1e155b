"""Stored predictions, group-committed: concurrent requests share one multi-row INSERT and one COMMIT.

A request hands its row over and waits until the transaction holding it has committed, so a predictionId in
a response always exists (POST actual-churn can use it at once) and a 2xx still means "stored". Nothing
waits for a batch to fill: the writer commits whatever is queued, and rows that arrive while a commit is in
flight go into the next one. At low load that is one row per commit; under load the batches grow and the
per-row cost of the round trips falls. The writer is drained on shutdown.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from fairway_ml_scoring.scoring.repository import PredictionRepository


class PredictionWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 500) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.max_batch = max_batch
        self._queue: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, row: dict[str, Any]) -> None:
        """Store one prediction row; returns once it is committed (raises if that transaction failed)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((row, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ml-scoring prediction writer")
        # shield: a client that goes away must not cancel the commit other requests are waiting for
        await asyncio.shield(future)

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                # One multi-row INSERT is atomic on its own: run it in autocommit, one round trip instead of
                # BEGIN, INSERT, COMMIT (and a Core connection, not an ORM session).
                async with self.engine.connect() as conn:
                    await PredictionRepository(conn).add_many([row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every request of the batch answers with the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        """Wait until every queued row is committed (clean shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)
