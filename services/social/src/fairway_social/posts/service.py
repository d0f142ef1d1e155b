"""Posts: saved with their media and one target per connection, checked against every platform's rules, and
scheduled on procrastinate (a job per target, deferred in the same transaction)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_chassis import Conflict, NotFound, Unprocessable
from fairway_events import outbox, registry
from fairway_events.contracts.social import SocialPostFailed, SocialPostScheduled
from fairway_social.connections.repository import ACTIVE, NEEDS_RECONNECT, Connection, ConnectionRepository
from fairway_social.errors import ContentInvalid
from fairway_social.posts import rules
from fairway_social.posts.repository import MediaItem, Post, PostRepository
from fairway_social.posts.schemas import MediaIn, PostIn, PostPatch
from fairway_social.state import SocialState
from fairway_social.targets import (
    DONE,
    IN_FLIGHT,
    OPEN,
    Target,
    TargetRepository,
    refresh_post_status,
    verify_later,
    wait_reason,
)
from fairway_social.targets import (
    schedule as schedule_target,
)

SOURCE = "social"


def _decode_media(items: list[MediaIn], max_bytes: int) -> list[MediaItem]:
    out, problems = [], []
    for i, m in enumerate(items):
        try:
            data = base64.b64decode(m.data, validate=True)
        except (binascii.Error, ValueError):
            problems.append({"field": f"media[{i}].data", "message": "not base64"})
            continue
        if len(data) > max_bytes:
            problems.append({"field": f"media[{i}]", "message": f"{len(data):,} bytes; at most {max_bytes:,}"})
        elif m.contentType not in rules.IMAGE_TYPES:
            problems.append({"field": f"media[{i}].contentType",
                             "message": f"{m.contentType} is not supported (images: "
                                        f"{', '.join(sorted(rules.IMAGE_TYPES))})"})
        elif not rules.sniff(m.contentType, data):
            problems.append({"field": f"media[{i}].data", "message": f"the file is not a {m.contentType} image"})
        out.append(MediaItem(uuid7(), i, m.filename, m.contentType, len(data), hashlib.sha256(data).hexdigest(), None,
                             data))
    if problems:
        raise ContentInvalid(problems)
    return out


async def _connections(session: AsyncSession, tenant_id: str, ids: list[uuid.UUID]) -> list[Connection]:
    found = {c.id: c for c in await ConnectionRepository(session, tenant_id).by_ids(ids)}
    problems = [{"field": f"connectionIds[{i}]", "message": f"no connection {cid}"}
                for i, cid in enumerate(ids) if cid not in found or found[cid].status not in (ACTIVE, NEEDS_RECONNECT)]
    if problems:
        raise Unprocessable.fields(problems)
    return [found[cid] for cid in dict.fromkeys(ids)]


def validate(platforms: set[str], text: str, hashtags: list[str], link: str | None,
             media: list[rules.MediaFacts]) -> None:
    problems = [p for platform in sorted(platforms) for p in rules.check(platform, text, hashtags, link, media)]
    if problems:
        raise ContentInvalid(problems)


async def create(session: AsyncSession, st: SocialState, tenant_id: str, user: str, body: PostIn, *,
                 request_id: str | None = None, media: list[MediaItem] | None = None, check: bool = True) -> Post | None:
    """A draft (or, with `scheduledAt`, a scheduled post). None when `request_id` was handled already."""
    conns = await _connections(session, tenant_id, body.connectionIds)
    items = media if media is not None else _decode_media(body.media, st.settings.max_media_bytes)
    if check:
        validate({c.platform for c in conns}, body.text, body.hashtags, body.link,
                 [rules.MediaFacts(m.content_type, m.size) for m in items])
    now = st.now()
    post = Post(id=uuid7(), tenant_id=tenant_id, text=body.text, link=body.link, hashtags=list(body.hashtags),
                campaign_id=body.campaignId, promotion_id=body.promotionId, request_id=request_id, status="DRAFT",
                scheduled_at=None, created_by=user, created_at=now, updated_at=now)
    repo = PostRepository(session, tenant_id)
    if not await repo.add(post):
        return None
    await repo.add_media(post.id, items, now)
    await TargetRepository(session, tenant_id).ensure(post.id, [(c.id, c.platform) for c in conns], "PENDING", now)
    if body.scheduledAt is not None:
        return await schedule(session, st, tenant_id, post.id, body.scheduledAt)
    return post


async def get(session: AsyncSession, tenant_id: str, post_id: uuid.UUID, *, lock: bool = False) -> Post:
    post = await PostRepository(session, tenant_id).get(post_id, lock=lock)
    if post is None:
        raise NotFound(f"no post {post_id}")
    return post


async def recheck(session: AsyncSession, tenant_id: str, post: Post, targets: list[Target]) -> None:
    media = await PostRepository(session, tenant_id).media(post.id)
    validate({t.platform for t in targets if t.status != "CANCELLED"}, post.text, post.hashtags, post.link,
             [rules.MediaFacts(m.content_type, m.size) for m in media])


async def schedule(session: AsyncSession, st: SocialState, tenant_id: str, post_id: uuid.UUID, at: datetime) -> Post:
    """Schedule (or publish now, with `at` now) every target not yet sent; one waiting for its account says so."""
    assert st.jobs is not None
    post = await get(session, tenant_id, post_id, lock=True)
    trepo = TargetRepository(session, tenant_id)
    targets = await trepo.for_post(post_id)
    if not any(t.status in OPEN for t in targets):
        raise Conflict(f"post {post_id} has nothing left to schedule ({post.status})")
    await recheck(session, tenant_id, post, targets)
    now = st.now()
    await PostRepository(session, tenant_id).update(post_id, scheduled_at=at, updated_at=now)
    conns = {c.id: c for c in await ConnectionRepository(session, tenant_id).by_ids([t.connection_id for t in targets])}
    for t in targets:
        if t.status not in OPEN:
            continue
        conn = conns[t.connection_id]
        if conn.status == ACTIVE:
            await schedule_target(session, st.jobs, t, at, now)
        else:
            await trepo.drop_job(t.job_id)
            await trepo.set(t.id, now, status="WAITING", job_id=None, wait_reason=wait_reason(
                conn.platform, conn.account_name, conn.status_reason or "the platform refused its token"))
    await refresh_post_status(session, tenant_id, post_id, now)
    open_targets = [t for t in targets if t.status in OPEN]
    await outbox.append(session, registry.envelope(SocialPostScheduled(
        postId=str(post_id), scheduledAt=at, connectionIds=[str(t.connection_id) for t in open_targets],
        platforms=sorted({t.platform for t in open_targets}),  # type: ignore[misc]
        campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id,
    ), tenant_id=tenant_id, aggregate_id=str(post_id), source=SOURCE))
    return await get(session, tenant_id, post_id)


async def change(session: AsyncSession, st: SocialState, tenant_id: str, post_id: uuid.UUID, patch: PostPatch) -> Post:
    post = await get(session, tenant_id, post_id, lock=True)
    trepo = TargetRepository(session, tenant_id)
    targets = await trepo.for_post(post_id)
    content_fields = {"text", "link", "hashtags", "connectionIds"} & patch.model_fields_set
    if content_fields and any(t.status in IN_FLIGHT or t.status == "PUBLISHED" for t in targets):
        raise Conflict("the post is published (or being published) on some accounts; its content can no longer change")
    now = st.now()
    values = {k: getattr(patch, f) for f, k in (("text", "text"), ("link", "link"), ("hashtags", "hashtags"),
                                                ("campaignId", "campaign_id"), ("promotionId", "promotion_id"))
              if f in patch.model_fields_set}
    repo = PostRepository(session, tenant_id)
    if values:
        await repo.update(post_id, **values, updated_at=now)
    if "connectionIds" in patch.model_fields_set and patch.connectionIds is not None:
        conns = await _connections(session, tenant_id, patch.connectionIds)
        for gone in await trepo.remove_open(post_id, [c.id for c in conns]):
            await trepo.drop_job(gone.job_id)
        status = "PENDING" if post.scheduled_at is None else "SCHEDULED"
        await trepo.ensure(post_id, [(c.id, c.platform) for c in conns], status, now)
        targets = await trepo.for_post(post_id)
        if status == "SCHEDULED":  # new connections of a scheduled post get their jobs now
            for t in targets:
                if t.status == "SCHEDULED" and t.job_id is None:
                    await schedule_target(session, st.jobs, t, post.scheduled_at, now)  # type: ignore[arg-type]
    post = await get(session, tenant_id, post_id)
    await recheck(session, tenant_id, post, await trepo.for_post(post_id))
    if "scheduledAt" in patch.model_fields_set and patch.scheduledAt is not None:
        post = await schedule(session, st, tenant_id, post_id, patch.scheduledAt)  # moves the jobs
    await refresh_post_status(session, tenant_id, post_id, now)
    return await get(session, tenant_id, post_id)


async def cancel(session: AsyncSession, st: SocialState, tenant_id: str, post_id: uuid.UUID) -> Post:
    """Every target not sent yet is cancelled (one being published right now finishes; its outcome is kept)."""
    await get(session, tenant_id, post_id, lock=True)
    trepo = TargetRepository(session, tenant_id)
    targets = await trepo.for_post(post_id)
    if all(t.status in DONE for t in targets):
        raise Conflict(f"post {post_id} has nothing left to cancel")
    now = st.now()
    for t in targets:
        if t.status in OPEN:
            await trepo.drop_job(t.job_id)
            await trepo.set(t.id, now, status="CANCELLED", job_id=None, wait_reason="cancelled")
    await refresh_post_status(session, tenant_id, post_id, now)
    return await get(session, tenant_id, post_id)


async def retry(session: AsyncSession, st: SocialState, tenant_id: str, post_id: uuid.UUID) -> Post:
    """FAILED targets are published again now; UNCONFIRMED ones are checked against the platform first (a retry
    never risks a second copy)."""
    assert st.jobs is not None
    post = await get(session, tenant_id, post_id, lock=True)
    trepo = TargetRepository(session, tenant_id)
    targets = await trepo.for_post(post_id)
    if not any(t.status in ("FAILED", "UNCONFIRMED") for t in targets):
        raise Conflict(f"post {post_id} has no failed or unconfirmed publication to retry")
    await recheck(session, tenant_id, post, targets)
    now = st.now()
    for t in targets:
        if t.status == "FAILED":
            await trepo.set(t.id, now, error=None, attempts=0)
            await schedule_target(session, st.jobs, t, None, now)
        elif t.status == "UNCONFIRMED":
            await verify_later(session, st.jobs, t, now)
    await refresh_post_status(session, tenant_id, post_id, now)
    return await get(session, tenant_id, post_id)


async def refuse(session: AsyncSession, st: SocialState, tenant_id: str, post_id: uuid.UUID, reason: str) -> None:
    """Fail every target of a post that cannot be published as it is (a request the rules refuse)."""
    post = await get(session, tenant_id, post_id)
    trepo = TargetRepository(session, tenant_id)
    now = st.now()
    for t in await trepo.for_post(post_id):
        await trepo.set(t.id, now, status="FAILED", error=reason)
        await outbox.append(session, registry.envelope(SocialPostFailed(
            postId=str(post_id), connectionId=str(t.connection_id), platform=t.platform,  # type: ignore[arg-type]
            campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id, error=reason,
            failedAt=now), tenant_id=tenant_id, aggregate_id=str(post_id), source=SOURCE))
    await refresh_post_status(session, tenant_id, post_id, now)


async def delete(session: AsyncSession, tenant_id: str, post_id: uuid.UUID) -> None:
    await get(session, tenant_id, post_id, lock=True)
    trepo = TargetRepository(session, tenant_id)
    targets = await trepo.for_post(post_id)
    if any(t.status in IN_FLIGHT or t.status == "PUBLISHED" for t in targets):
        raise Conflict("the post is published (or being published); cancel what is left instead")
    for t in targets:
        await trepo.drop_job(t.job_id)
    await PostRepository(session, tenant_id).delete(post_id)
