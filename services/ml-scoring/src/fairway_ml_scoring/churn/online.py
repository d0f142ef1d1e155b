"""Online churn predictions, micro-batched: requests that are ready at the same time share one online-store
read per club, one feature computation and one model run per served model.

Each request's own work is a handful of numpy/ONNX calls on one row, whose fixed cost dominates; done for
several members at once it costs little more than for one. Nothing waits for a batch to fill: a request
queues its member and the batch runs on the event loop's next turn, with whatever arrived meanwhile. At low
load that is a batch of one (no added latency); when the process falls behind, waiting requests coalesce and
the per-request cost drops, which is what keeps the queue short.

The batch runs on the event loop: a sub-millisecond, CPU-bound step under the GIL, where a thread hop would
cost more than it frees.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_ml_scoring.churn.service import Choice, PredictionInput, prediction_documents
from fairway_ml_scoring.churn.writer import PredictionWriter, StoredPredictions
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.features.transform import feature_matrix

Result = tuple[dict[str, Any], dict[str, Any]]  # (API document, database row)


def serve_online(ctx: MlContext, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Wire online churn serving to the service's database (startup, on the event loop)."""
    ctx.churn_online = OnlinePredictor(ctx)
    ctx.prediction_writer = PredictionWriter(engine)
    ctx.stored_predictions = StoredPredictions(engine)
    ctx.sessions = sessions


@dataclass
class _Pending:
    tenant_id: str
    subject: str
    choice: Choice
    baseline: dict[str, float] | None
    now: datetime
    future: asyncio.Future[Result | None]


class OnlinePredictor:
    def __init__(self, ctx: MlContext) -> None:
        self.ctx = ctx
        self._queue: list[_Pending] = []
        self.batches = 0  # batches run and requests served (the bench reports requests per batch)
        self.requests = 0

    async def predict(
        self,
        tenant_id: str,
        subject: str,
        choice: Choice,
        baseline: dict[str, float] | None,
        now: datetime,
    ) -> Result | None:
        """The prediction for a member from the online store; None when the store holds no row for them."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result | None] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._flush)
        self._queue.append(_Pending(tenant_id, subject, choice, baseline, now, future))
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        self.batches += 1
        self.requests += len(batch)
        try:
            results = self.run(batch)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request, which raises it
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():  # a cancelled request leaves its future done
                item.future.set_result(result)

    def run(self, batch: list[_Pending]) -> list[Result | None]:
        """Synchronous core: one online read per club, then features and documents for everyone found."""
        raw = np.full((len(batch), len(RAW_FIELDS)), np.nan)
        found = np.zeros(len(batch), dtype=bool)
        by_tenant: dict[str, list[int]] = {}
        for k, item in enumerate(batch):
            by_tenant.setdefault(item.tenant_id, []).append(k)
        for tenant_id, ks in by_tenant.items():
            values, hit = self.ctx.fs.read_values(tenant_id, [batch[k].subject for k in ks])
            raw[ks] = values
            found[ks] = hit
        out: list[Result | None] = [None] * len(batch)
        hits = np.flatnonzero(found).tolist()
        if not hits:
            return out
        times = np.array([batch[k].now.timestamp() for k in hits])
        matrix = feature_matrix(raw[hits], times)
        docs = prediction_documents(
            self.ctx,
            [
                PredictionInput(
                    batch[k].tenant_id,
                    batch[k].subject,
                    matrix[j],
                    batch[k].choice,
                    batch[k].baseline,
                    batch[k].now,
                )
                for j, k in enumerate(hits)
            ],
        )
        for k, doc in zip(hits, docs, strict=True):
            out[k] = doc
        return out
