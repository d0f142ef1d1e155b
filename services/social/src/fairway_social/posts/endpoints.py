"""Posts: CRUD, schedule, publish now, retry, cancel."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from fairway_chassis import CursorCodec, SessionDep, error_responses, paginate
from fairway_social.api import Reader, SocialDep, Writer
from fairway_social.posts import service
from fairway_social.posts.repository import Post, PostRepository
from fairway_social.posts.schemas import (
    Engagement,
    MediaOut,
    PostIn,
    PostList,
    PostOut,
    PostPatch,
    ScheduleIn,
    TargetOut,
)
from fairway_social.targets import Target, TargetRepository

router = APIRouter(prefix="/api/v1/social/posts", tags=["posts"])
CURSOR: CursorCodec[tuple[datetime, uuid.UUID]] = CursorCodec(tuple[AwareDatetime, uuid.UUID])
ERRORS = error_responses(404, 409, 422)


def _target(t: Target) -> TargetOut:
    engagement = None if t.engagement_at is None else Engagement(
        likes=t.likes or 0, comments=t.comments or 0, shares=t.shares or 0, impressions=t.impressions or 0,
        clicks=t.clicks or 0, fetchedAt=t.engagement_at)
    return TargetOut(connectionId=str(t.connection_id), platform=t.platform, status=t.status, waitReason=t.wait_reason,
                     notBefore=t.not_before, attempts=t.attempts, platformPostId=t.platform_post_id, url=t.url,
                     error=t.error, publishedAt=t.published_at, engagement=engagement)


async def _out(session: SessionDep, tenant_id: str, post: Post, targets: list[Target] | None = None) -> PostOut:
    media = await PostRepository(session, tenant_id).media(post.id)
    if targets is None:
        targets = await TargetRepository(session, tenant_id).for_post(post.id)
    return PostOut(id=str(post.id), status=post.status, text=post.text, link=post.link, hashtags=post.hashtags,
                   media=[MediaOut(id=str(m.id), filename=m.filename, contentType=m.content_type, size=m.size)
                          for m in media],
                   campaignId=post.campaign_id, promotionId=post.promotion_id, requestId=post.request_id,
                   scheduledAt=post.scheduled_at, createdBy=post.created_by, createdAt=post.created_at,
                   updatedAt=post.updated_at, targets=[_target(t) for t in targets])


@router.post("", response_model=PostOut, status_code=201, responses=ERRORS)
async def create_post(body: PostIn, session: SessionDep, social: SocialDep, principal: Writer) -> PostOut:
    """A draft, or a scheduled post when `scheduledAt` is given. Checked against every platform of its
    connections: a 422 names the platform and the field at fault."""
    post = await service.create(session, social, principal.tenant_id, principal.subject, body)
    assert post is not None
    return await _out(session, principal.tenant_id, post)


@router.get("", response_model=PostList, responses=error_responses(422))
async def list_posts(session: SessionDep, principal: Reader, status: str | None = None,
                     cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 25) -> PostList:
    rows = await PostRepository(session, principal.tenant_id).page(after=CURSOR.decode(cursor), limit=limit + 1,
                                                                    status=status)
    page = paginate(rows, limit, CURSOR, lambda p: (p.created_at, p.id))
    targets = await TargetRepository(session, principal.tenant_id).for_posts([p.id for p in page.items])
    return PostList(items=[await _out(session, principal.tenant_id, p, targets[p.id]) for p in page.items],
                    nextCursor=page.next_cursor)


@router.get("/{post_id}", response_model=PostOut, responses=ERRORS)
async def get_post(post_id: uuid.UUID, session: SessionDep, principal: Reader) -> PostOut:
    return await _out(session, principal.tenant_id, await service.get(session, principal.tenant_id, post_id))


@router.patch("/{post_id}", response_model=PostOut, responses=ERRORS)
async def change_post(post_id: uuid.UUID, body: PostPatch, session: SessionDep, social: SocialDep,
                      principal: Writer) -> PostOut:
    """Change a post not yet published; a new `scheduledAt` moves its publishing jobs."""
    return await _out(session, principal.tenant_id,
                      await service.change(session, social, principal.tenant_id, post_id, body))


@router.delete("/{post_id}", status_code=204, responses=ERRORS)
async def delete_post(post_id: uuid.UUID, session: SessionDep, principal: Writer) -> Response:
    await service.delete(session, principal.tenant_id, post_id)
    return Response(status_code=204)


@router.post("/{post_id}/schedule", response_model=PostOut, responses=ERRORS)
async def schedule_post(post_id: uuid.UUID, body: ScheduleIn, session: SessionDep, social: SocialDep,
                        principal: Writer) -> PostOut:
    return await _out(session, principal.tenant_id,
                      await service.schedule(session, social, principal.tenant_id, post_id, body.scheduledAt))


@router.post("/{post_id}/publish-now", response_model=PostOut, responses=ERRORS)
async def publish_now(post_id: uuid.UUID, session: SessionDep, social: SocialDep, principal: Writer) -> PostOut:
    return await _out(session, principal.tenant_id,
                      await service.schedule(session, social, principal.tenant_id, post_id, social.now()))


@router.post("/{post_id}/retry", response_model=PostOut, responses=ERRORS)
async def retry_post(post_id: uuid.UUID, session: SessionDep, social: SocialDep, principal: Writer) -> PostOut:
    return await _out(session, principal.tenant_id, await service.retry(session, social, principal.tenant_id, post_id))


@router.post("/{post_id}/cancel", response_model=PostOut, responses=ERRORS)
async def cancel_post(post_id: uuid.UUID, session: SessionDep, social: SocialDep, principal: Writer) -> PostOut:
    return await _out(session, principal.tenant_id, await service.cancel(session, social, principal.tenant_id, post_id))
