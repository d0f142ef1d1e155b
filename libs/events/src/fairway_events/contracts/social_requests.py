"""crm.social.requests: posts other services (campaigns, promotions) ask the social service to publish."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.social.requests"
Platform = Literal["FACEBOOK", "INSTAGRAM", "X"]


@registry.event("social.post.requested", 1, topic=TOPIC)
class SocialPostRequested(BaseModel):
    """One post to publish on the tenant's active connections (all of them, or those of `platforms`)."""

    model_config = ConfigDict(frozen=True)
    requestId: str  # deterministic per source and post: the social service publishes each request once
    sourceKind: Literal["CAMPAIGN", "PROMOTION"]
    sourceId: str
    platforms: list[Platform] = Field(default_factory=list)  # empty: every active connection
    text: str = Field(min_length=1)
    link: str | None = None
    hashtags: list[str] = Field(default_factory=list)
    mediaUrls: list[str] = Field(default_factory=list)
    scheduledAt: datetime | None = None  # None: as soon as possible
    cancel: bool = False  # withdraw a request not yet published
