"""What Fairway publishes for Messaging to act on. Messaging is never called directly."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fairway_events.registry import registry

Channel = Literal["EMAIL", "SMS", "PUSH", "WHATSAPP"]


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)
    profileId: str
    email: str | None = None
    phoneNumber: str | None = None
    messagingContactId: str | None = None


# v1, frozen as published (its docstring and title are part of its committed schema): no template data, and a
# template-only message carried `template:<templateId>` as its body.
@registry.event("messaging.send.requested", 1, topic="crm.messaging.send_requests")
class SendRequestedV1(BaseModel):
    """Ask Messaging to deliver one message. Messaging checks consent again before it sends."""

    model_config = ConfigDict(frozen=True, title="SendRequested")  # the title v1's committed schema has
    requestId: str
    channel: Channel
    recipient: Recipient
    subject: str | None = None
    body: str = Field(min_length=1)
    templateId: str | None = None
    campaignId: str | None = None
    journeyId: str | None = None
    variant: str | None = None


@registry.event("messaging.send.requested", 2, topic="crm.messaging.send_requests")
class SendRequested(BaseModel):
    """Ask Messaging to deliver one message. Messaging checks consent again before it sends.

    Either a written `body` (with `subject` for email), or a Messaging template `templateId` rendered with
    `templateData`, the merge data of this recipient (a journey's per-person values, a campaign's shared ones)."""

    model_config = ConfigDict(frozen=True)
    requestId: str
    channel: Channel
    recipient: Recipient
    subject: str | None = None
    body: str | None = Field(default=None, min_length=1)
    templateId: str | None = Field(default=None, min_length=1)
    templateData: dict[str, Any] = Field(default_factory=dict)
    campaignId: str | None = None
    journeyId: str | None = None
    variant: str | None = None

    @model_validator(mode="after")
    def _content(self) -> SendRequested:
        if self.body is None and self.templateId is None:
            raise ValueError("a send request needs a body or a templateId")
        return self


TEMPLATE_BODY_PREFIX = "template:"


@registry.upcaster("messaging.send.requested", 1)
def upcast_send_requested_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 had no template data, and stood `template:<templateId>` in for the body of a template-only message."""
    template = payload.get("templateId")
    if template and payload.get("body") == TEMPLATE_BODY_PREFIX + template:
        payload["body"] = None
    payload.setdefault("templateData", {})
    return payload


@registry.event("segment.sync.delta", 1, topic="crm.messaging.segment_sync")
class SegmentSyncDelta(BaseModel):
    """Membership delta of one segment for Messaging's audience lists."""

    model_config = ConfigDict(frozen=True)
    segmentId: str
    segmentName: str
    added: list[Recipient] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    fullResync: bool = False
