"""Post targets: one row per post and connection, the unit published exactly once, and its publishing job.

Shared by connections (a revoked account holds its targets, a reconnected one resumes them), posts (scheduling,
cancelling) and publishing (the state machine), so it sits below all three.

Statuses: PENDING (a draft's), SCHEDULED (a job will publish it), WAITING (its connection must be reconnected),
PUBLISHING (an attempt started and its outcome is not recorded yet), UNCONFIRMED (the platform's answer was lost:
it is checked against the platform, never blindly retried), PUBLISHED, FAILED, CANCELLED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Jobs
from fairway_social.db import post_targets, posts

PUBLISH_TASK = "social.publish"
VERIFY_TASK = "social.verify"
_NS = uuid.UUID("0b6c1f5e-43a1-5d2e-9a57-3c1d0e8f7a21")

OPEN = ("PENDING", "SCHEDULED", "WAITING")  # nothing sent yet
IN_FLIGHT = ("PUBLISHING", "UNCONFIRMED")
DONE = ("PUBLISHED", "FAILED", "CANCELLED")


def wait_reason(platform: str, account_name: str, reason: str) -> str:
    name = "X" if platform == "X" else platform.title()
    return f"waiting: {account_name} on {name} must be reconnected ({reason})"


def target_id(post_id: uuid.UUID, connection_id: uuid.UUID) -> uuid.UUID:
    """Deterministic: the same post and connection always name the same target, whoever creates it."""
    return uuid.uuid5(_NS, f"{post_id}:{connection_id}")


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    tenant_id: str
    post_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    status: str
    wait_reason: str | None
    not_before: datetime | None
    attempts: int
    job_id: int | None
    attempt_started_at: datetime | None
    platform_post_id: str | None
    url: str | None
    error: str | None
    published_at: datetime | None
    likes: int | None
    comments: int | None
    shares: int | None
    impressions: int | None
    clicks: int | None
    engagement_at: datetime | None
    updated_at: datetime


class TargetRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _scope(self) -> Any:
        return post_targets.c.tenant_id == self.tenant_id

    async def ensure(self, post_id: uuid.UUID, connections: list[tuple[uuid.UUID, str]], status: str,
                     now: datetime) -> None:
        if not connections:
            return
        await self.session.execute(insert(post_targets).values([
            dict(id=target_id(post_id, cid), tenant_id=self.tenant_id, post_id=post_id, connection_id=cid,
                 platform=platform, status=status, attempts=0, updated_at=now) for cid, platform in connections
        ]).on_conflict_do_nothing())

    async def remove_open(self, post_id: uuid.UUID, keep: list[uuid.UUID]) -> list[Target]:
        """Targets of connections no longer on the post (only those not started)."""
        rows = (await self.session.execute(post_targets.delete().where(
            self._scope(), post_targets.c.post_id == post_id, post_targets.c.connection_id.not_in(keep),
            post_targets.c.status.in_(OPEN)).returning(*post_targets.c))).all()
        return [Target(**r._mapping) for r in rows]

    async def for_post(self, post_id: uuid.UUID) -> list[Target]:
        rows = (await self.session.execute(select(post_targets).where(self._scope(), post_targets.c.post_id == post_id)
                                           .order_by(post_targets.c.platform, post_targets.c.id))).all()
        return [Target(**r._mapping) for r in rows]

    async def for_posts(self, post_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Target]]:
        out: dict[uuid.UUID, list[Target]] = {p: [] for p in post_ids}
        rows = (await self.session.execute(select(post_targets).where(
            self._scope(), post_targets.c.post_id.in_(post_ids)).order_by(post_targets.c.platform))).all()
        for r in rows:
            out[r.post_id].append(Target(**r._mapping))
        return out

    async def get(self, tid: uuid.UUID, *, lock: bool = False) -> Target | None:
        q = select(post_targets).where(self._scope(), post_targets.c.id == tid)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return Target(**row._mapping) if row else None

    async def set(self, tid: uuid.UUID, now: datetime, **values: Any) -> None:
        await self.session.execute(update(post_targets).where(self._scope(), post_targets.c.id == tid)
                                   .values(updated_at=now, **values))

    async def of_connection(self, connection_id: uuid.UUID, statuses: tuple[str, ...]) -> list[Target]:
        rows = (await self.session.execute(select(post_targets).where(
            self._scope(), post_targets.c.connection_id == connection_id, post_targets.c.status.in_(statuses)))).all()
        return [Target(**r._mapping) for r in rows]

    async def published_since(self, since: datetime) -> list[Target]:
        rows = (await self.session.execute(select(post_targets).where(
            self._scope(), post_targets.c.status == "PUBLISHED", post_targets.c.published_at >= since))).all()
        return [Target(**r._mapping) for r in rows]

    # -- the procrastinate job behind a target ---------------------------------------------------------------
    async def drop_job(self, job_id: int | None) -> None:
        """Delete the target's waiting job (one already running finds the target changed and does nothing)."""
        if job_id is not None:
            await self.session.execute(text("DELETE FROM procrastinate_jobs WHERE id = :id AND status = 'todo'"),
                                       {"id": job_id})

    async def move_job(self, job_id: int | None, at: datetime) -> bool:
        """Move the waiting job to `at`; False if there is none waiting (then a new one must be deferred)."""
        if job_id is None:
            return False
        result = await self.session.execute(text(
            "UPDATE procrastinate_jobs SET scheduled_at = :at WHERE id = :id AND status = 'todo' RETURNING id"),
            {"id": job_id, "at": at})
        return result.first() is not None


async def schedule(session: AsyncSession, jobs: Jobs, target: Target, at: datetime | None, now: datetime,
                   *, reason: str | None = None) -> None:
    """SCHEDULED, with a publishing job at `at` (None: now) in this transaction: the job exists exactly when the
    change commits. An existing waiting job is moved rather than doubled."""
    repo = TargetRepository(session, target.tenant_id)
    when = at if at is not None and at > now else None
    job_id = target.job_id
    if not await repo.move_job(job_id, when or now):
        job_id = await jobs.defer_in(session, PUBLISH_TASK, tenant_id=target.tenant_id, schedule_at=when,
                                     lock=f"target:{target.id}", target_id=str(target.id))
    await repo.set(target.id, now, status="SCHEDULED", not_before=when, wait_reason=reason, job_id=job_id)


async def verify_later(session: AsyncSession, jobs: Jobs, target: Target, at: datetime) -> None:
    await jobs.defer_in(session, VERIFY_TASK, tenant_id=target.tenant_id, schedule_at=at, lock=f"target:{target.id}",
                        target_id=str(target.id))


async def hold_connection(session: AsyncSession, tenant_id: str, connection_id: uuid.UUID, reason: str,
                          now: datetime) -> int:
    """The connection must be reconnected: its waiting targets say why (their jobs find WAITING and stop)."""
    repo = TargetRepository(session, tenant_id)
    held = await repo.of_connection(connection_id, ("PENDING", "SCHEDULED", "WAITING"))
    for t in held:
        if t.status == "PENDING":
            continue  # drafts are not waiting for anything
        await lock_post(session, tenant_id, t.post_id)
        await repo.drop_job(t.job_id)
        await repo.set(t.id, now, status="WAITING", wait_reason=reason, job_id=None)
        await refresh_post_status(session, tenant_id, t.post_id, now)
    return sum(1 for t in held if t.status != "PENDING")


async def resume_connection(session: AsyncSession, jobs: Jobs, tenant_id: str, connection_id: uuid.UUID,
                            now: datetime) -> int:
    """The connection is back: every target that waited for it is scheduled again, at its post's time."""
    repo = TargetRepository(session, tenant_id)
    waiting = await repo.of_connection(connection_id, ("WAITING",))
    for t in waiting:
        await lock_post(session, tenant_id, t.post_id)
        at = (await session.execute(select(posts.c.scheduled_at).where(posts.c.tenant_id == tenant_id,
                                                                       posts.c.id == t.post_id))).scalar()
        await schedule(session, jobs, t, at, now)
        await refresh_post_status(session, tenant_id, t.post_id, now)
    return len(waiting)


async def cancel_connection(session: AsyncSession, tenant_id: str, connection_id: uuid.UUID, now: datetime) -> int:
    """The connection goes: its targets not started are cancelled. -1 if one is being published right now."""
    repo = TargetRepository(session, tenant_id)
    if await repo.of_connection(connection_id, ("PUBLISHING",)):
        return -1
    targets = await repo.of_connection(connection_id, OPEN)
    for t in targets:
        await lock_post(session, tenant_id, t.post_id)
        await repo.drop_job(t.job_id)
        await repo.set(t.id, now, status="CANCELLED", wait_reason="the connection was removed", job_id=None)
        await refresh_post_status(session, tenant_id, t.post_id, now)
    return len(targets)


def post_status(statuses: list[str], scheduled: bool) -> str:
    """A post's status from its targets'."""
    s = set(statuses)
    if not s:
        return "SCHEDULED" if scheduled else "DRAFT"
    if s & set(IN_FLIGHT):
        return "PUBLISHING"
    if s <= {"CANCELLED"}:
        return "CANCELLED"
    if s & set(OPEN):
        if s & {"PUBLISHED", "FAILED"}:
            return "PUBLISHING"
        if s <= {"PENDING", "CANCELLED"}:
            return "DRAFT"
        return "SCHEDULED"
    if "FAILED" in s:
        return "PARTIALLY_PUBLISHED" if "PUBLISHED" in s else "FAILED"
    return "PUBLISHED"


async def lock_post(session: AsyncSession, tenant_id: str, post_id: uuid.UUID) -> None:
    """Every transaction that changes a target locks its post first (posts before targets, always in that order,
    so none deadlock). The post's status is then computed from its targets' committed states: two targets of one
    post finishing at once cannot each see the other still PUBLISHING and leave the post PUBLISHING."""
    await session.execute(select(posts.c.id).where(posts.c.tenant_id == tenant_id, posts.c.id == post_id)
                          .with_for_update())


async def refresh_post_status(session: AsyncSession, tenant_id: str, post_id: uuid.UUID, now: datetime) -> str:
    await lock_post(session, tenant_id, post_id)
    rows = (await session.execute(select(post_targets.c.status).where(
        post_targets.c.tenant_id == tenant_id, post_targets.c.post_id == post_id))).scalars().all()
    scheduled = (await session.execute(select(posts.c.scheduled_at).where(
        posts.c.tenant_id == tenant_id, posts.c.id == post_id))).scalar() is not None
    status = post_status(list(rows), scheduled)
    await session.execute(update(posts).where(posts.c.tenant_id == tenant_id, posts.c.id == post_id)
                          .values(status=status, updated_at=now))
    return status
