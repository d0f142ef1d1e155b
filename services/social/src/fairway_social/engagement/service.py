"""Engagement: likes, comments, shares, impressions and clicks of recent posts, fetched from the platforms on a
schedule, kept on the target and announced on crm.social when they changed."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_events import outbox, registry
from fairway_events.contracts.social import SocialPostEngagementUpdated
from fairway_social.connections.service import access_token
from fairway_social.db import post_targets
from fairway_social.errors import NeedsReconnect
from fairway_social.platforms.base import Metrics, PlatformError
from fairway_social.posts.repository import PostRepository
from fairway_social.state import SocialState
from fairway_social.targets import TargetRepository

log = structlog.get_logger("fairway.social.engagement")


async def tenants_with_recent_posts(session: AsyncSession, since: datetime) -> list[str]:
    """The one cross-tenant query: which tenants have posts to look at (each then gets a job of its own)."""
    return list((await session.execute(select(post_targets.c.tenant_id).distinct().where(
        post_targets.c.status == "PUBLISHED", post_targets.c.published_at >= since))).scalars())


async def refresh_tenant(sessionmaker: async_sessionmaker[AsyncSession], st: SocialState, tenant_id: str) -> int:
    """Fetch the metrics of the tenant's posts of the last `engagement_days`; returns how many changed."""
    since = st.now() - timedelta(days=st.settings.engagement_days)
    async with sessionmaker() as session:
        targets = await TargetRepository(session, tenant_id).published_since(since)
    changed = 0
    for t in targets:
        if t.platform_post_id is None:
            continue
        try:
            conn, token = await access_token(sessionmaker, st, tenant_id, t.connection_id)
            if conn.platform == "X":
                m = await st.platforms.x.metrics(t.platform_post_id, token)
            else:
                m = await st.platforms.graph.metrics(conn.platform, t.platform_post_id, token)  # type: ignore[arg-type]
        except (PlatformError, NeedsReconnect) as exc:
            log.info("engagement not fetched", target_id=str(t.id), reason=getattr(exc, "message", str(exc)))
            continue
        if t.engagement_at is not None and Metrics(t.likes or 0, t.comments or 0, t.shares or 0, t.impressions or 0,
                                                   t.clicks or 0) == m:
            continue
        async with sessionmaker() as session, session.begin():
            now = st.now()
            # Under the row lock: a concurrent round that stored the same figures first makes this one a no-op.
            current = await TargetRepository(session, tenant_id).get(t.id, lock=True)
            if current is None or (current.engagement_at is not None and Metrics(
                    current.likes or 0, current.comments or 0, current.shares or 0, current.impressions or 0,
                    current.clicks or 0) == m):
                continue
            await TargetRepository(session, tenant_id).set(t.id, now, likes=m.likes, comments=m.comments,
                                                           shares=m.shares, impressions=m.impressions, clicks=m.clicks,
                                                           engagement_at=now)
            post = await PostRepository(session, tenant_id).get(t.post_id)
            assert post is not None
            await outbox.append(session, registry.envelope(SocialPostEngagementUpdated(
                postId=str(t.post_id), connectionId=str(t.connection_id), platform=t.platform,  # type: ignore[arg-type]
                campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id,
                platformPostId=t.platform_post_id, likes=m.likes, comments=m.comments, shares=m.shares,
                impressions=m.impressions, clicks=m.clicks, fetchedAt=now,
            ), tenant_id=tenant_id, aggregate_id=str(t.post_id), source="social"))
        changed += 1
    return changed
