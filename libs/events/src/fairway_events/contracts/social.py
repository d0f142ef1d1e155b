"""crm.social: what the social service did with connections and posts. Keyed by post id (connection events by
connection id). No event carries a token: connections are described by platform, account and status only."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.social"
Platform = Literal["FACEBOOK", "INSTAGRAM", "X"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


@registry.event("social.connection.connected", 1, topic=TOPIC)
class SocialConnectionConnected(_Model):
    connectionId: str
    platform: Platform
    accountId: str
    accountName: str
    scopes: list[str]
    missingOptionalScopes: list[str] = Field(default_factory=list)  # e.g. insights: engagement will be partial
    connectedBy: str
    at: datetime


@registry.event("social.connection.needs_reconnect", 1, topic=TOPIC)
class SocialConnectionNeedsReconnect(_Model):
    connectionId: str
    platform: Platform
    accountId: str
    accountName: str
    reason: str  # the platform's reason in plain words
    waitingPosts: int  # scheduled posts on this connection that wait for the reconnect
    at: datetime


@registry.event("social.post.scheduled", 1, topic=TOPIC)
class SocialPostScheduled(_Model):
    postId: str
    scheduledAt: datetime
    connectionIds: list[str]
    platforms: list[Platform]
    campaignId: str | None = None
    promotionId: str | None = None
    requestId: str | None = None  # the social.post.requested this post answers


class _TargetOutcome(_Model):
    postId: str
    connectionId: str
    platform: Platform
    campaignId: str | None = None
    promotionId: str | None = None
    requestId: str | None = None


@registry.event("social.post.published", 1, topic=TOPIC)
class SocialPostPublished(_TargetOutcome):
    platformPostId: str
    url: str
    publishedAt: datetime


@registry.event("social.post.failed", 1, topic=TOPIC)
class SocialPostFailed(_TargetOutcome):
    error: str  # the platform's reason in plain words
    failedAt: datetime


@registry.event("social.post.engagement_updated", 1, topic=TOPIC)
class SocialPostEngagementUpdated(_TargetOutcome):
    platformPostId: str
    likes: int = Field(ge=0)
    comments: int = Field(ge=0)
    shares: int = Field(ge=0)
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    fetchedAt: datetime
