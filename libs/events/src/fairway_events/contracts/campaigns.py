"""crm.campaigns: campaign lifecycle, A/B test decisions and content approvals. Keyed by campaign id, so one
campaign's events stay ordered (approvals of content not tied to a campaign are keyed by their approval id)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.campaigns"
CampaignChannel = Literal["EMAIL", "SMS", "PUSH", "SOCIAL"]
ScheduleKind = Literal["NOW", "AT", "LOCAL_TIME", "BEST_TIME"]
AbMetric = Literal["OPEN_RATE", "CLICK_RATE", "CONVERSION"]
ApprovalRequirement = Literal["NONE", "SAMPLE_REVIEW", "FIRST_USE", "ALL"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


@registry.event("campaign.scheduled", 1, topic=TOPIC)
class CampaignScheduled(_Model):
    campaignId: str
    name: str
    channels: list[CampaignChannel]
    targetSegmentId: str | None = None
    scheduleKind: ScheduleKind
    startsAt: datetime  # when the fan-out starts (recipients may get it later: local or best time)
    abTest: bool = False
    by: str


@registry.event("campaign.started", 1, topic=TOPIC)
class CampaignStarted(_Model):
    """Sending started: the audience was snapshotted."""

    campaignId: str
    audienceSize: int = Field(ge=0)
    testSize: int = Field(default=0, ge=0)  # recipients of the A/B test wave
    startedAt: datetime


@registry.event("campaign.paused", 1, topic=TOPIC)
class CampaignPaused(_Model):
    campaignId: str
    fromState: str
    submitted: int = Field(ge=0)  # recipients handed to dispatch so far
    pausedAt: datetime
    by: str


@registry.event("campaign.cancelled", 1, topic=TOPIC)
class CampaignCancelled(_Model):
    campaignId: str
    fromState: str
    submitted: int = Field(ge=0)
    cancelledAt: datetime
    by: str


@registry.event("campaign.completed", 1, topic=TOPIC)
class CampaignCompleted(_Model):
    campaignId: str
    audienceSize: int = Field(ge=0)
    requested: int = Field(ge=0)  # send requests that went to Messaging
    skipped: dict[str, int] = Field(default_factory=dict)  # dispatch outcome -> recipients
    completedAt: datetime


class VariantStats(_Model):
    variant: str
    recipients: int = Field(ge=0)  # requested in the test wave
    successes: int = Field(ge=0)  # opened, clicked or converted, by the metric
    rate: float = Field(ge=0, le=1)


@registry.event("ab_test.winner_selected", 1, topic=TOPIC)
class AbTestWinnerSelected(_Model):
    """The end of a campaign's A/B test. `decision`: SIGNIFICANT (the winner beat the others at the confidence),
    BEST_NOT_SIGNIFICANT (no significant winner; the tenant chose to send the best anyway), or NONE (no
    significant winner and the tenant chose to send nothing more: the owner is told by this event)."""

    campaignId: str
    metric: AbMetric
    decision: Literal["SIGNIFICANT", "BEST_NOT_SIGNIFICANT", "NONE"]
    winner: str | None = None  # variant name; None with NONE
    pValue: float | None = None
    confidence: float = Field(gt=0, lt=1)
    test: str  # the statistical test used
    variants: list[VariantStats]
    restSize: int = Field(ge=0)  # recipients the winner goes to (0 with NONE)
    decidedAt: datetime


class _Approval(_Model):
    approvalId: str
    campaignId: str | None = None
    contentType: Literal["EMAIL_SUBJECT", "EMAIL_BODY", "SMS", "PUSH", "SOCIAL_POST"]
    contentHash: str  # the same text always has the same hash (auto-approval counts uses per hash)


@registry.event("content.approval_requested", 1, topic=TOPIC)
class ContentApprovalRequested(_Approval):
    requirement: ApprovalRequirement
    reason: str  # why review is needed: the tenant's requirement, or the gateway's requiresApproval
    expiresAt: datetime


@registry.event("content.approved", 1, topic=TOPIC)
class ContentApproved(_Approval):
    reviewer: str  # "auto" when approved after N approved uses
    edited: bool = False


@registry.event("content.rejected", 1, topic=TOPIC)
class ContentRejected(_Approval):
    reviewer: str  # "expiry" when the request expired unreviewed
    feedback: str | None = None


# -- event and tournament promotion (key: promotion id) --------------------------------------------------------
PromotionStopReason = Literal["FULL", "DEADLINE_PASSED", "CANCELLED", "EVENT_STARTED", "STAFF_CANCELLED"]


@registry.event("promotion.created", 1, topic=TOPIC)
class PromotionCreated(_Model):
    """A competition or event is being promoted: its announcement, posts and reminders are scheduled."""

    promotionId: str
    competitionId: str | None = None  # TeeTime's, when it promotes a published competition
    name: str
    startsAt: datetime
    channels: list[CampaignChannel]
    audienceSegmentId: str | None = None
    reminderDays: list[int]  # the reminders planned (those already past when it was created are skipped)
    automatic: bool  # created by auto-promotion (else by a staff member)
    by: str


@registry.event("promotion.reminder_sent", 1, topic=TOPIC)
class PromotionReminderSent(_Model):
    """A reminder went to the audience members who had not entered (dispatch then times each message)."""

    promotionId: str
    step: str  # REMINDER_7, REMINDER_3, REMINDER_1, ...
    daysBefore: int = Field(ge=0)
    recipients: int = Field(ge=0)  # audience members who had not entered
    requested: int = Field(ge=0)  # messages handed to dispatch
    sentAt: datetime


@registry.event("promotion.stopped", 1, topic=TOPIC)
class PromotionStopped(_Model):
    """Pending reminders stopped (FULL, DEADLINE_PASSED) or everything stopped (CANCELLED, STAFF_CANCELLED)."""

    promotionId: str
    reason: PromotionStopReason
    stoppedSteps: list[str]  # the steps that will not run
    cancelledHeld: int = Field(ge=0)  # messages dispatch still held, withdrawn
    at: datetime
