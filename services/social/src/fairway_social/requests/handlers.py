"""Posts other services (campaigns, promotions) ask for on crm.social.requests: one post per request id, on the
tenant's active connections (all, or those of the platforms asked for). A request the platforms' rules refuse
still becomes a post, whose targets fail with the reason, so the requester hears why (social.post.failed)."""

from __future__ import annotations

import mimetypes

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_events import Delivery, Dispatch, Envelope
from fairway_events.contracts.social_requests import TOPIC, SocialPostRequested
from fairway_social.connections.repository import ConnectionRepository
from fairway_social.errors import ContentInvalid
from fairway_social.posts import service as posts
from fairway_social.posts.repository import MediaItem, PostRepository
from fairway_social.posts.schemas import PostIn
from fairway_social.state import SocialState

log = structlog.get_logger("fairway.social.requests")
TOPICS = [TOPIC]
HANDLED = {"social.post.requested"}


class PostRequests:
    def __init__(self, social: SocialState) -> None:
        self.social = social
        self.dispatch = Dispatch()
        self.dispatch.on("social.post.requested")(self.requested)

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        await self.dispatch(session, deliveries)

    async def requested(self, session: AsyncSession, env: Envelope) -> None:
        req: SocialPostRequested = env.payload  # type: ignore[assignment]
        tenant = env.tenant_id
        existing = await PostRepository(session, tenant).by_request(req.requestId)
        if req.cancel:
            if existing is not None and existing.status not in ("PUBLISHED", "CANCELLED", "FAILED"):
                try:
                    await posts.cancel(session, self.social, tenant, existing.id)
                except Exception as exc:  # nothing left to cancel: a no-op, not a poison event
                    log.info("request cancel had nothing to do", request_id=req.requestId, reason=str(exc))
            return
        if existing is not None:
            return  # the same request again (a producer retry): it has its post already
        conns = await ConnectionRepository(session, tenant).active(platforms=list(req.platforms) or None)
        if not conns:
            log.warning("post request with no active connection", request_id=req.requestId,
                        platforms=list(req.platforms))
            return
        body = PostIn(connectionIds=[c.id for c in conns], text=req.text, link=req.link,
                      hashtags=[h.lstrip("#") for h in req.hashtags],
                      campaignId=req.sourceId if req.sourceKind == "CAMPAIGN" else None,
                      promotionId=req.sourceId if req.sourceKind == "PROMOTION" else None,
                      scheduledAt=req.scheduledAt or self.social.now())
        media = [MediaItem(uuid7(), i, url.rsplit("/", 1)[-1][:200] or "image",
                           mimetypes.guess_type(url)[0] or "image/jpeg", 0, "", url) for i, url in enumerate(req.mediaUrls)]
        try:
            await posts.create(session, self.social, tenant, f"{req.sourceKind.lower()}:{req.sourceId}", body,
                               request_id=req.requestId, media=media)
        except ContentInvalid as exc:
            post = await posts.create(session, self.social, tenant, f"{req.sourceKind.lower()}:{req.sourceId}",
                                      body.model_copy(update={"scheduledAt": None}), request_id=req.requestId,
                                      media=media, check=False)
            assert post is not None
            reason = "; ".join(f"{p['platform']}: {p['message']}" for p in exc.detail)
            await posts.refuse(session, self.social, tenant, post.id, reason)

