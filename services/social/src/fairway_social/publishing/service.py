"""Publishing one target (a post on one connection) exactly once.

1. In a transaction holding the target's row lock: re-check it (still SCHEDULED, due, content valid), then mark it
   PUBLISHING with the attempt's start time, and commit. From here on, an attempt may exist on the platform.
2. Outside any transaction: get a token (refreshing it under the connection's lock) and call the platform.
3. In a new transaction: record the outcome. PUBLISHED; FAILED with the platform's reason; rate-limited: SCHEDULED
   again at the platform's reset time; nothing happened (transient): SCHEDULED again with a backoff; the outcome
   is unknown (a timeout, a 5xx after sending): UNCONFIRMED, and a check is scheduled.

A target found PUBLISHING or UNCONFIRMED (the previous attempt's worker died, or its answer was lost) is never
sent blindly: the platform is asked whether the post exists (same account, same text, made since the attempt
started). Found: PUBLISHED. Not found, and the attempt is older than the settle time: it did not happen, and the
target is scheduled again. Not found yet: checked again later. Jobs of one target run one at a time (procrastinate
`lock`), so a check and an attempt never overlap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import NotFound
from fairway_events import outbox, registry
from fairway_events.contracts.social import SocialPostFailed, SocialPostPublished
from fairway_social.connections.repository import Connection, ConnectionRepository
from fairway_social.connections.service import access_token, mark_needs_reconnect
from fairway_social.errors import NeedsReconnect
from fairway_social.platforms.base import (
    Content,
    Media,
    OutcomeUnknown,
    Published,
    RateLimited,
    Rejected,
    TokenRevoked,
    Transient,
)
from fairway_social.posts import rules
from fairway_social.posts.media import media_url
from fairway_social.posts.repository import Post, PostRepository
from fairway_social.state import SocialState
from fairway_social.targets import (
    Target,
    TargetRepository,
    lock_post,
    refresh_post_status,
    schedule,
    verify_later,
    wait_reason,
)

log = structlog.get_logger("fairway.social.publishing")
SOURCE = "social"
MAX_TRANSIENT_ATTEMPTS = 6


@dataclass
class Publisher:
    sessionmaker: async_sessionmaker[AsyncSession]
    social: SocialState

    @property
    def now(self) -> datetime:
        return self.social.now()

    @staticmethod
    async def _lock(session: AsyncSession, tenant_id: str, tid: uuid.UUID) -> Target | None:
        """The target, locked after its post (posts before targets: see targets.lock_post)."""
        repo = TargetRepository(session, tenant_id)
        t = await repo.get(tid)
        if t is None:
            return None
        await lock_post(session, tenant_id, t.post_id)
        return await repo.get(tid, lock=True)

    # -- the attempt ------------------------------------------------------------------------------------------
    async def publish(self, tenant_id: str, tid: uuid.UUID) -> str:
        """Run one publishing job; returns what happened (for logs and tests)."""
        async with self.sessionmaker() as session, session.begin():
            repo = TargetRepository(session, tenant_id)
            t = await self._lock(session, tenant_id, tid)
            if t is None or t.status in ("PUBLISHED", "FAILED", "CANCELLED", "WAITING", "PENDING"):
                return f"nothing to do ({t.status if t else 'gone'})"
            if t.status in ("PUBLISHING", "UNCONFIRMED"):
                verify = True
            else:
                verify = False
                if t.not_before is not None and t.not_before > self.now + timedelta(seconds=1):
                    return "not due yet"  # a job left over from before a reschedule; the moved one will run
                post = await PostRepository(session, tenant_id).get(t.post_id)
                assert post is not None
                media = await PostRepository(session, tenant_id).media(post.id)
                problems = rules.check(t.platform, post.text, post.hashtags, post.link,
                                       [rules.MediaFacts(m.content_type, m.size) for m in media])
                if problems:
                    await self._fail(session, t, post, "; ".join(p["message"] for p in problems))
                    return "invalid"
                await repo.set(t.id, self.now, status="PUBLISHING", attempt_started_at=self.now,
                               attempts=t.attempts + 1, wait_reason=None, job_id=None)
                await refresh_post_status(session, tenant_id, t.post_id, self.now)
        if verify:
            return await self.verify(tenant_id, tid)
        return await self._attempt(tenant_id, tid)

    async def _attempt(self, tenant_id: str, tid: uuid.UUID) -> str:
        async with self.sessionmaker() as session:
            t = await TargetRepository(session, tenant_id).get(tid)
            assert t is not None
            post = await PostRepository(session, tenant_id).get(t.post_id)
            media = await PostRepository(session, tenant_id).media(t.post_id, with_data=True)
        assert post is not None
        try:
            content = await self._content(t, post, media)
            published = await self._call_with_token(tenant_id, t, content)
        except NeedsReconnect as exc:
            async with self.sessionmaker() as session:
                conn = await ConnectionRepository(session, tenant_id).get(t.connection_id)
            name = conn.account_name if conn else "the account"
            return await self._record(tenant_id, t, waiting=wait_reason(t.platform, name, str(exc.detail)))
        except NotFound:
            return await self._record(tenant_id, t, failed="the connection was removed")
        except RateLimited as exc:
            return await self._record(tenant_id, t, retry_at=exc.reset_at, reason=f"waiting: {exc.message} until "
                                      f"{exc.reset_at:%H:%M:%S} UTC")
        except Rejected as exc:
            return await self._record(tenant_id, t, failed=exc.message)
        except Transient as exc:
            if t.attempts + 1 > MAX_TRANSIENT_ATTEMPTS:
                return await self._record(tenant_id, t, failed=f"gave up after {t.attempts} attempts: {exc.message}")
            backoff = timedelta(seconds=min(900, 5 * 3 ** t.attempts))
            return await self._record(tenant_id, t, retry_at=self.now + backoff, reason=f"retrying: {exc.message}")
        except OutcomeUnknown as exc:
            return await self._record(tenant_id, t, unknown=exc.message)
        return await self._record(tenant_id, t, published=published)

    async def _call_with_token(self, tenant_id: str, t: Target, content: Content) -> Published:
        for force in (False, True):
            conn, token = await access_token(self.sessionmaker, self.social, tenant_id, t.connection_id,
                                             force_refresh=force)
            try:
                return await self._platform_publish(conn, token, content)
            except TokenRevoked as exc:
                # A refused token published nothing. X: refresh once and try again; otherwise, or if the fresh
                # token is refused too, the account must be reconnected.
                if conn.platform == "X" and not force:
                    continue
                await self._reconnect(tenant_id, conn, exc.message)
                raise NeedsReconnect(exc.message) from None
        raise AssertionError("unreachable")

    async def _platform_publish(self, conn: Connection, token: str, content: Content) -> Published:
        p = self.social.platforms
        if conn.platform == "X":
            return await p.x.publish(token, content)
        return await p.graph.publish(conn.platform, conn.account_id, token, content)  # type: ignore[arg-type]

    async def _content(self, t: Target, post: Post, media: list) -> Content:  # type: ignore[type-arg]
        items = []
        for m in media:
            data = m.data
            if data is None and m.source_url:  # media given by URL (posts requested by other services)
                r = await self.social.platforms.http.get(m.source_url, timeout=self.social.settings.platform_timeout_seconds)
                if r.status_code >= 400:
                    raise Rejected(f"the image at {m.source_url} could not be fetched (HTTP {r.status_code})")
                data = r.content
            items.append(Media(m.content_type, data or b"", m.source_url or media_url(self.social, t.tenant_id, m.id)))
        link = post.link if t.platform == "FACEBOOK" else None
        return Content(rules.compose(t.platform, post.text, post.hashtags, post.link), link, items)

    # -- recording outcomes -----------------------------------------------------------------------------------
    async def _record(self, tenant_id: str, t: Target, *, published: Published | None = None,
                      failed: str | None = None, unknown: str | None = None, waiting: str | None = None,
                      retry_at: datetime | None = None, reason: str | None = None) -> str:
        jobs = self.social.jobs
        assert jobs is not None
        async with self.sessionmaker() as session, session.begin():
            repo = TargetRepository(session, tenant_id)
            current = await self._lock(session, tenant_id, t.id)
            assert current is not None
            post = await PostRepository(session, tenant_id).get(t.post_id)
            assert post is not None
            now = self.now
            if published is not None:
                await self._published(session, current, post, published)
                outcome = "published"
            elif failed is not None:
                await self._fail(session, current, post, failed)
                outcome = "failed"
            elif unknown is not None:
                await repo.set(t.id, now, status="UNCONFIRMED", error=unknown,
                               wait_reason="checking with the platform whether the post was made")
                await verify_later(session, jobs, current, now + timedelta(
                    seconds=self.social.settings.unconfirmed_check_seconds))
                outcome = "unconfirmed"
            elif waiting is not None:
                await repo.set(t.id, now, status="WAITING", wait_reason=waiting, job_id=None)
                outcome = "waiting"
            else:
                await schedule(session, jobs, current, retry_at, now, reason=reason)
                outcome = "rescheduled"
            await refresh_post_status(session, tenant_id, t.post_id, now)
        log.info("publish attempt", target_id=str(t.id), platform=t.platform, outcome=outcome)
        return outcome

    async def _published(self, session: AsyncSession, t: Target, post: Post, p: Published) -> None:
        now = self.now
        await TargetRepository(session, t.tenant_id).set(t.id, now, status="PUBLISHED", platform_post_id=p.post_id,
                                                         url=p.url, published_at=now, error=None, wait_reason=None)
        await outbox.append(session, registry.envelope(SocialPostPublished(
            postId=str(post.id), connectionId=str(t.connection_id), platform=t.platform,  # type: ignore[arg-type]
            campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id,
            platformPostId=p.post_id, url=p.url, publishedAt=now,
        ), tenant_id=t.tenant_id, aggregate_id=str(post.id), source=SOURCE))

    async def _fail(self, session: AsyncSession, t: Target, post: Post, error: str) -> None:
        now = self.now
        await TargetRepository(session, t.tenant_id).set(t.id, now, status="FAILED", error=error, wait_reason=None,
                                                         job_id=None)
        await refresh_post_status(session, t.tenant_id, t.post_id, now)
        await outbox.append(session, registry.envelope(SocialPostFailed(
            postId=str(post.id), connectionId=str(t.connection_id), platform=t.platform,  # type: ignore[arg-type]
            campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id,
            error=error, failedAt=now,
        ), tenant_id=t.tenant_id, aggregate_id=str(post.id), source=SOURCE))

    async def _reconnect(self, tenant_id: str, conn: Connection, reason: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            current = await ConnectionRepository(session, tenant_id).get(conn.id, lock=True)
            if current is not None:
                await mark_needs_reconnect(session, self.social, current, reason)

    # -- checking an unknown outcome --------------------------------------------------------------------------
    async def verify(self, tenant_id: str, tid: uuid.UUID) -> str:
        jobs = self.social.jobs
        assert jobs is not None
        async with self.sessionmaker() as session:
            t = await TargetRepository(session, tenant_id).get(tid)
            post = await PostRepository(session, tenant_id).get(t.post_id) if t else None
        if t is None or post is None or t.status not in ("PUBLISHING", "UNCONFIRMED"):
            return "nothing to check"
        started = t.attempt_started_at or t.updated_at
        try:
            conn, token = await access_token(self.sessionmaker, self.social, tenant_id, t.connection_id)
            text = rules.compose(t.platform, post.text, post.hashtags, post.link)
            since = started - timedelta(seconds=5)
            if conn.platform == "X":
                found = await self.social.platforms.x.find(conn.account_id, token, since, text)
            else:
                found = await self.social.platforms.graph.find(conn.platform, conn.account_id,  # type: ignore[arg-type]
                                                               token, since, text)
        except (NeedsReconnect, Transient, RateLimited, TokenRevoked, Rejected, OutcomeUnknown) as exc:
            # Cannot ask now: stay UNCONFIRMED (never publish blindly) and ask again later.
            reason = getattr(exc, "message", None) or str(getattr(exc, "detail", exc))
            async with self.sessionmaker() as session, session.begin():
                current = await self._lock(session, tenant_id, tid)
                if current is not None and current.status in ("PUBLISHING", "UNCONFIRMED"):
                    await TargetRepository(session, tenant_id).set(
                        tid, self.now, status="UNCONFIRMED",
                        wait_reason=f"could not check with the platform yet: {reason}")
                    await verify_later(session, jobs, current, self.now + timedelta(
                        seconds=max(self.social.settings.unconfirmed_check_seconds, 30)))
                    await refresh_post_status(session, tenant_id, t.post_id, self.now)
            return "check postponed"
        async with self.sessionmaker() as session, session.begin():
            repo = TargetRepository(session, tenant_id)
            current = await self._lock(session, tenant_id, tid)
            if current is None or current.status not in ("PUBLISHING", "UNCONFIRMED") \
                    or current.attempt_started_at != t.attempt_started_at:
                return "changed meanwhile"
            now = self.now
            if found is not None:
                await self._published(session, current, post, found)
                outcome = "confirmed"
            elif now - started >= timedelta(seconds=self.social.settings.unconfirmed_settle_seconds):
                await schedule(session, jobs, current, None, now,
                               reason="the previous attempt did not reach the platform; publishing again")
                outcome = "not there: publishing again"
            else:
                await repo.set(tid, now, status="UNCONFIRMED",
                               wait_reason="checking with the platform whether the post was made")
                settle_at = started + timedelta(seconds=self.social.settings.unconfirmed_settle_seconds)
                await verify_later(session, jobs, current, min(settle_at, now + timedelta(
                    seconds=self.social.settings.unconfirmed_check_seconds)))
                outcome = "not there yet"
            await refresh_post_status(session, tenant_id, t.post_id, now)
        log.info("publish check", target_id=str(tid), platform=t.platform, outcome=outcome)
        return outcome
