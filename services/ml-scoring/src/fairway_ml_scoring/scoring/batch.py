"""Scoring every member of a club: the nightly job and `fairway-ml score-all`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.snapshots import replace_snapshots
from fairway_ml_scoring.scoring.service import refresh_scores


@dataclass
class BatchResult:
    tenant_id: str
    members: int
    announced: int
    snapshot_rows: int


async def score_all(
    sessions: async_sessionmaker[AsyncSession],
    ctx: MlContext,
    tenant_id: str,
    *,
    chunk: int = 2000,
    export: bool = False,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Rescore everyone in chunks (one transaction each), pushing fresh rows to the online store."""
    now = ctx.now()
    rows = 0
    async with sessions() as session, session.begin():
        repo = FeatureLogRepository.for_tenant(session, tenant_id)
        subjects = await repo.subjects()
        if export:
            rows = await replace_snapshots(session, tenant_id, await repo.load(), now)
    announced = 0
    for i in range(0, len(subjects), chunk):
        part = subjects[i : i + chunk]
        async with sessions() as session, session.begin():
            announced += await refresh_scores(session, ctx, tenant_id, part, now=now)
        if progress:
            progress(len(part))
    await ctx.drain()
    return BatchResult(tenant_id, len(subjects), announced, rows)
