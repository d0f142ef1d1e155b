"""Coalescing: concurrent calls share one execution of a batch operation (one query, one INSERT).

A call queues its item and waits for its own result. One worker runs whatever is queued; items that arrive
while it runs go into the next run. Nothing waits for a batch to fill: at low load a run holds one item (no
added latency), and when requests pile up the runs grow, so the per-request cost of the round trips falls
exactly when it matters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    def __init__(
        self, run: Callable[[list[T]], Awaitable[list[R]]], *, name: str, max_batch: int = 500
    ) -> None:
        self.run = run  # one result per item, in order
        self.name = name
        self.max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._work(), name=self.name)
        # shield: a caller that goes away must not cancel the run other callers are waiting for
        return await asyncio.shield(future)

    async def _work(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                results = await self.run([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every caller of the batch raises it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait until everything queued has run (clean shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)
