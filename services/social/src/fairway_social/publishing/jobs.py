"""The social service's procrastinate tasks: publish a target, check an unknown outcome, fetch engagement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import JobRegistry, Runtime
from fairway_social.engagement.service import refresh_tenant, tenants_with_recent_posts
from fairway_social.publishing.service import Publisher
from fairway_social.state import SocialState
from fairway_social.targets import PUBLISH_TASK, VERIFY_TASK

ENGAGEMENT_TASK = "social.engagement"


@dataclass
class Worker:
    """What the tasks need: the database and the service state."""

    sessionmaker: async_sessionmaker[AsyncSession]
    social: SocialState

    @property
    def publisher(self) -> Publisher:
        return Publisher(self.sessionmaker, self.social)


def _worker(runtime: Runtime) -> Worker:
    assert runtime.sessionmaker is not None
    return Worker(runtime.sessionmaker, runtime.state)


registry: JobRegistry[Worker] = JobRegistry("social", context=_worker)


@registry.task(PUBLISH_TASK)
async def publish(w: Worker, *, tenant_id: str, target_id: str) -> str:
    return await w.publisher.publish(tenant_id, uuid.UUID(target_id))


@registry.task(VERIFY_TASK)
async def verify(w: Worker, *, tenant_id: str, target_id: str) -> str:
    return await w.publisher.verify(tenant_id, uuid.UUID(target_id))


@registry.task(ENGAGEMENT_TASK, retry=False)
async def engagement(w: Worker, *, tenant_id: str) -> int:
    return await refresh_tenant(w.sessionmaker, w.social, tenant_id)


@registry.periodic("social.engagement_round", cron="*/15 * * * *")
async def engagement_round(w: Worker, *, timestamp: int) -> None:
    """Every 15 minutes: one engagement job per tenant with posts of the last days (one at a time per tenant)."""
    assert w.social.jobs is not None
    async with w.sessionmaker() as session:
        tenants = await tenants_with_recent_posts(session, w.social.now() - timedelta(
            days=w.social.settings.engagement_days))
    for tenant in tenants:
        await w.social.jobs.defer(ENGAGEMENT_TASK, tenant_id=tenant, queueing_lock=f"engagement:{tenant}")
