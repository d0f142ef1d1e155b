"""Background loops of the service: follow model aliases, refresh Feast's offline and online stores (and
rescore everyone, since windows and recency decay without events), and watch for feature drift."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog

from fairway_chassis import Runtime
from fairway_events import outbox
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.drift.service import check_drift
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.models.service import deployed_events
from fairway_ml_scoring.scoring.batch import score_all

log = structlog.get_logger("fairway.ml.jobs")


def _ctx(runtime: Runtime) -> MlContext:
    return runtime.extras["ml"]


async def _every(seconds: float, what: str, fn: Callable[[], Any]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next round tries again
            log.exception("background job failed", job=what)


async def watch_models(runtime: Runtime) -> None:
    ctx = _ctx(runtime)
    assert runtime.sessionmaker is not None

    async def once() -> None:
        changes = []
        for cache in (ctx.churn_models, ctx.clv_models):
            if cache is not None:
                changes += await asyncio.to_thread(cache.refresh_all)
        if changes:
            async with runtime.sessionmaker() as session, session.begin():
                await outbox.append_many(session, deployed_events(changes))

    await _every(ctx.settings.model_poll_seconds, "watch_models", once)


async def refresh_all_tenants(runtime: Runtime) -> None:
    """Export to the offline source, materialise into the online store, and rescore every member."""
    ctx = _ctx(runtime)
    assert runtime.sessionmaker is not None
    async with runtime.sessionmaker() as session:
        tenants = await FeatureLogRepository(session).tenants()
    for tenant_id in tenants:
        await score_all(runtime.sessionmaker, ctx, tenant_id, export=True)
    loop = asyncio.get_running_loop()
    # Same single writer thread as the pushes: materialisation and pushes land in order.
    await loop.run_in_executor(ctx.online_writer, ctx.fs.materialize, ctx.now())


async def materialize_loop(runtime: Runtime) -> None:
    await _every(
        _ctx(runtime).settings.materialize_interval_seconds,
        "materialize",
        lambda: refresh_all_tenants(runtime),
    )


async def drift_loop(runtime: Runtime) -> None:
    ctx = _ctx(runtime)
    assert runtime.sessionmaker is not None

    async def once() -> None:
        async with runtime.sessionmaker() as session:
            tenants = await FeatureLogRepository(session).tenants()
        for tenant_id in tenants:
            async with runtime.sessionmaker() as session, session.begin():
                await check_drift(session, ctx, tenant_id)

    await _every(ctx.settings.drift_interval_seconds, "drift", once)
