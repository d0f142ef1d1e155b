"""All SQL on posts and their media, for one tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_social.db import post_media, posts


@dataclass(frozen=True)
class Post:
    id: uuid.UUID
    tenant_id: str
    text: str
    link: str | None
    hashtags: list[str]
    campaign_id: str | None
    promotion_id: str | None
    request_id: str | None
    status: str
    scheduled_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MediaItem:
    id: uuid.UUID
    position: int
    filename: str
    content_type: str
    size: int
    sha256: str
    source_url: str | None
    data: bytes | None = field(default=None, repr=False)


_MEDIA_META = (post_media.c.id, post_media.c.position, post_media.c.filename, post_media.c.content_type,
               post_media.c.size, post_media.c.sha256, post_media.c.source_url)


class PostRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _scope(self) -> Any:
        return posts.c.tenant_id == self.tenant_id

    async def add(self, post: Post) -> bool:
        """False when a post answering the same request exists already (request ids are unique per tenant)."""
        values = {k: v for k, v in post.__dict__.items()}
        result = await self.session.execute(insert(posts).values(**values).on_conflict_do_nothing()
                                            .returning(posts.c.id))
        return result.first() is not None

    async def get(self, post_id: uuid.UUID, *, lock: bool = False) -> Post | None:
        q = select(posts).where(self._scope(), posts.c.id == post_id)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return Post(**row._mapping) if row else None

    async def by_request(self, request_id: str) -> Post | None:
        row = (await self.session.execute(select(posts).where(self._scope(), posts.c.request_id == request_id))).first()
        return Post(**row._mapping) if row else None

    async def page(self, *, after: tuple[datetime, uuid.UUID] | None, limit: int, status: str | None) -> list[Post]:
        """Newest first; `after` is the (created_at, id) of the last post of the previous page."""
        q = select(posts).where(self._scope())
        if status:
            q = q.where(posts.c.status == status)
        if after:
            q = q.where(tuple_(posts.c.created_at, posts.c.id) < tuple_(*after))
        rows = (await self.session.execute(q.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit)
                                           )).all()
        return [Post(**r._mapping) for r in rows]

    async def between(self, start: datetime, end: datetime) -> list[Post]:
        """Posts due or published in [start, end): by their schedule, else their creation."""
        rows = (await self.session.execute(select(posts).where(
            self._scope(), posts.c.scheduled_at >= start, posts.c.scheduled_at < end).order_by(posts.c.scheduled_at)
        )).all()
        return [Post(**r._mapping) for r in rows]

    async def update(self, post_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(update(posts).where(self._scope(), posts.c.id == post_id).values(**values))

    async def delete(self, post_id: uuid.UUID) -> None:
        await self.session.execute(posts.delete().where(self._scope(), posts.c.id == post_id))

    # -- media --------------------------------------------------------------------------------------------
    async def add_media(self, post_id: uuid.UUID, items: list[MediaItem], now: datetime) -> None:
        if items:
            await self.session.execute(post_media.insert(), [
                dict(id=m.id, tenant_id=self.tenant_id, post_id=post_id, position=m.position, filename=m.filename,
                     content_type=m.content_type, size=m.size, sha256=m.sha256, source_url=m.source_url,
                     data=m.data, created_at=now) for m in items])

    async def media(self, post_id: uuid.UUID, *, with_data: bool = False) -> list[MediaItem]:
        cols = (*_MEDIA_META, post_media.c.data) if with_data else _MEDIA_META
        rows = (await self.session.execute(select(*cols).where(
            post_media.c.tenant_id == self.tenant_id, post_media.c.post_id == post_id).order_by(post_media.c.position)
        )).all()
        return [MediaItem(**r._mapping) for r in rows]

    async def media_item(self, media_id: uuid.UUID) -> MediaItem | None:
        row = (await self.session.execute(select(*_MEDIA_META, post_media.c.data).where(
            post_media.c.tenant_id == self.tenant_id, post_media.c.id == media_id))).first()
        return MediaItem(**row._mapping) if row else None
