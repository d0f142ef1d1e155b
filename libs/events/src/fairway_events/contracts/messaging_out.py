"""What Fairway publishes for Messaging to act on. Messaging is never called directly."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

Channel = Literal["EMAIL", "SMS", "PUSH", "WHATSAPP"]


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)
    profileId: str
    email: str | None = None
    phoneNumber: str | None = None
    messagingContactId: str | None = None


@registry.event("messaging.send.requested", 1, topic="crm.messaging.send_requests")
class SendRequested(BaseModel):
    """Ask Messaging to deliver one message. Messaging checks consent again before it sends."""

    model_config = ConfigDict(frozen=True)
    requestId: str
    channel: Channel
    recipient: Recipient
    subject: str | None = None
    body: str = Field(min_length=1)
    templateId: str | None = None
    campaignId: str | None = None
    journeyId: str | None = None
    variant: str | None = None


@registry.event("segment.sync.delta", 1, topic="crm.messaging.segment_sync")
class SegmentSyncDelta(BaseModel):
    """Membership delta of one segment for Messaging's audience lists."""

    model_config = ConfigDict(frozen=True)
    segmentId: str
    segmentName: str
    added: list[Recipient] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    fullResync: bool = False
