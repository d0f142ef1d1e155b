from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

Hashtag = Annotated[str, StringConstraints(pattern=r"^#?[\w]{1,100}$")]
Link = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=200)
    contentType: str = Field(min_length=3, max_length=60)
    data: str = Field(min_length=4, description="base64 of the file")


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connectionIds: list[uuid.UUID] = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=63206)
    link: Link | None = None
    hashtags: list[Hashtag] = Field(default_factory=list, max_length=60)
    media: list[MediaIn] = Field(default_factory=list, max_length=10)
    campaignId: str | None = Field(default=None, max_length=100)
    promotionId: str | None = Field(default=None, max_length=100)
    scheduledAt: AwareDatetime | None = None  # set: scheduled at once; unset: a draft


class PostPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connectionIds: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=20)
    text: str | None = Field(default=None, min_length=1, max_length=63206)
    link: Link | None = None
    hashtags: list[Hashtag] | None = Field(default=None, max_length=60)
    campaignId: str | None = Field(default=None, max_length=100)
    promotionId: str | None = Field(default=None, max_length=100)
    scheduledAt: AwareDatetime | None = None  # a new time moves the publishing jobs

    @model_validator(mode="after")
    def _something(self) -> PostPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for name in ("connectionIds", "text", "hashtags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scheduledAt: AwareDatetime


class MediaOut(BaseModel):
    id: str
    filename: str
    contentType: str
    size: int


class Engagement(BaseModel):
    likes: int
    comments: int
    shares: int
    impressions: int
    clicks: int
    fetchedAt: datetime


class TargetOut(BaseModel):
    connectionId: str
    platform: str
    status: str
    waitReason: str | None
    notBefore: datetime | None
    attempts: int
    platformPostId: str | None
    url: str | None
    error: str | None
    publishedAt: datetime | None
    engagement: Engagement | None


class PostOut(BaseModel):
    id: str
    status: str
    text: str
    link: str | None
    hashtags: list[str]
    media: list[MediaOut]
    campaignId: str | None
    promotionId: str | None
    requestId: str | None
    scheduledAt: datetime | None
    createdBy: str
    createdAt: datetime
    updatedAt: datetime
    targets: list[TargetOut]


class PostList(BaseModel):
    items: list[PostOut]
    nextCursor: str | None
