"""Background loops of the service: follow model aliases, refresh Feast's offline and online stores (and
rescore everyone, since windows and recency decay without events), and watch for feature drift."""

from __future__ import annotations

import asyncio

from fairway_chassis import Runtime
from fairway_events import outbox
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.drift.service import check_drift
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository
from fairway_ml_scoring.lifecycle.service import deployed_events
from fairway_ml_scoring.scoring.batch import score_all


async def watch_models(runtime: Runtime[MlContext]) -> None:
    """Follow the registry's aliases; announce each model that starts or stops being served."""
    ctx = runtime.state
    assert runtime.sessionmaker is not None
    changes = []
    for cache in (ctx.churn_models, ctx.clv_models):
        if cache is not None:
            changes += await asyncio.to_thread(cache.refresh_all)
    if changes:
        async with runtime.sessionmaker() as session, session.begin():
            await outbox.append_many(session, deployed_events(changes))


async def refresh_all_tenants(runtime: Runtime[MlContext]) -> None:
    """Export to the offline source, materialise into the online store, and rescore every member."""
    ctx = runtime.state
    assert runtime.sessionmaker is not None
    async with runtime.sessionmaker() as session:
        tenants = await FeatureLogBatchRepository(session).tenants()
    for tenant_id in tenants:
        await score_all(runtime.sessionmaker, ctx, tenant_id, export=True)
    loop = asyncio.get_running_loop()
    # Same single writer thread as the pushes: materialisation and pushes land in order.
    await loop.run_in_executor(ctx.online_writer, ctx.fs.materialize, ctx.now())


async def check_all_drift(runtime: Runtime[MlContext]) -> None:
    ctx = runtime.state
    assert runtime.sessionmaker is not None
    async with runtime.sessionmaker() as session:
        tenants = await FeatureLogBatchRepository(session).tenants()
    for tenant_id in tenants:
        async with runtime.sessionmaker() as session, session.begin():
            await check_drift(session, ctx, tenant_id)
