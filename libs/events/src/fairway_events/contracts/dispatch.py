"""Dispatch: the one way to Messaging. Campaigns own it; journeys, promotions and interventions submit requests.

`crm.dispatch.requests` carries what other services ask to send; `crm.dispatch.outcomes` tells them what dispatch
did with each request (requested from Messaging, held for quiet hours, or refused with a reason). Both are keyed by
profile id, so one person's requests and outcomes stay ordered.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

REQUESTS = "crm.dispatch.requests"
OUTCOMES = "crm.dispatch.outcomes"
DispatchChannel = Literal["EMAIL", "SMS", "PUSH"]
SourceKind = Literal["CAMPAIGN", "JOURNEY", "PROMOTION", "INTERVENTION"]
Outcome = Literal[
    "REQUESTED",  # a send request went to Messaging
    "HELD",  # waiting for quiet hours to end or for the recipient's best time
    "SUPPRESSED",  # profile not active, erased, or no address for the channel
    "NO_CONSENT",  # channel opt-in (or aiMarketingConsent for AI-personalised content) missing
    "CONTROL_GROUP",  # the tenant's global control group never gets marketing
    "CAPPED",  # a frequency cap for the channel was reached
    "EXPIRED",  # its time was past the maximum lateness
    "CANCELLED",  # the source cancelled it before it went out
]

# Deterministic ids are UUIDv5 in this namespace over the message's coordinates.
_NAMESPACE = uuid.UUID("6f1d2a3c-9b7e-5d41-8c2f-0a4b6e8d1f35")


def dispatch_request_id(kind: str, source_id: str, run_id: str | None, step_id: str | None, profile_id: str,
                        channel: str) -> str:
    """The id of one message: the same coordinates always give the same id, so no retry, crash or replay can make a
    second request. Used as Messaging's de-duplication key and as the dispatch ledger's unique key."""
    parts = (kind, source_id, run_id or "", step_id or "", profile_id, channel)
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class DispatchSource(_Model):
    kind: SourceKind
    id: str  # campaign, journey, promotion or intervention id
    runId: str | None = None  # journey run, campaign send wave
    stepId: str | None = None
    version: int | None = None  # journey version


class DispatchContent(_Model):
    """Either a Messaging template with its data, or a written subject and body."""

    templateId: str | None = None
    templateData: dict[str, Any] = Field(default_factory=dict)
    subject: str | None = None
    body: str | None = None
    aiPersonalised: bool = False  # needs aiMarketingConsent
    approvalContentId: str | None = None  # content that must be approved before it goes out


class SendWindow(_Model):
    """Send at the recipient's best time between these instants (send-time optimisation)."""

    start: datetime
    end: datetime


@registry.event("dispatch.requested", 1, topic=REQUESTS)
class DispatchRequested(_Model):
    requestId: str  # dispatch_request_id(...) of the submitter
    profileId: str
    channel: DispatchChannel
    source: DispatchSource
    content: DispatchContent
    transactional: bool = False  # exempt from caps and quiet hours, never from consent or suppression
    notBefore: datetime | None = None
    window: SendWindow | None = None


@registry.event("dispatch.outcome", 1, topic=OUTCOMES)
class DispatchOutcomeRecorded(_Model):
    requestId: str
    profileId: str
    channel: DispatchChannel
    source: DispatchSource
    outcome: Outcome
    reason: str | None = None
    scheduledFor: datetime | None = None  # for HELD: when it will go
    at: datetime
