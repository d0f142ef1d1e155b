"""The campaign API's models. The definition (content, schedule, A/B test) is stored as these documents."""
from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fairway_campaigns.campaigns.states import State

DEFAULT_TIME_ZONE = "Africa/Johannesburg"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not an IANA time zone (e.g. Africa/Johannesburg, Europe/London)") from None
    return v


TimeZone = Annotated[str, AfterValidator(_zone)]


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("give a time zone offset (e.g. 2026-12-01T08:00:00+02:00)")
    return v


Aware = Annotated[datetime, AfterValidator(_aware)]


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"
    SOCIAL = "SOCIAL"  # handed to the social service as a post


MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelContent(_In):
    """A Messaging template with its data, or a written (or generated) subject and body; for SOCIAL, the post."""

    templateId: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    templateData: dict[str, Any] = Field(default_factory=dict)
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | None = None
    hashtags: list[Annotated[str, StringConstraints(max_length=60)]] = Field(default_factory=list, max_length=30)
    link: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # Set when the text came from the AI gateway: its decision, and whether it must be reviewed before use.
    generatedBy: str | None = None
    requiresApproval: bool = False
    aiPersonalised: bool = False

    @model_validator(mode="after")
    def _something(self) -> ChannelContent:
        if not self.templateId and not self.body:
            raise ValueError("give templateId (a Messaging template) or body")
        return self


class ScheduleKind(StrEnum):
    NOW = "NOW"
    AT = "AT"
    LOCAL_TIME = "LOCAL_TIME"  # at a wall-clock time on a date, in each recipient's own time zone
    BEST_TIME = "BEST_TIME"  # each recipient's best time (send-time profile) within a window


class Window(_In):
    start: Aware
    end: Aware

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


class Schedule(_In):
    kind: ScheduleKind = ScheduleKind.NOW
    at: Aware | None = None  # AT
    date: dt.date | None = None  # LOCAL_TIME
    localTime: dt.time | None = None  # LOCAL_TIME
    window: Window | None = None  # BEST_TIME

    @model_validator(mode="after")
    def _fields(self) -> Schedule:
        need = {ScheduleKind.AT: ("at",), ScheduleKind.LOCAL_TIME: ("date", "localTime"),
                ScheduleKind.BEST_TIME: ("window",), ScheduleKind.NOW: ()}[self.kind]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"schedule kind {self.kind.value} needs {name}")
        return self


class AbMetric(StrEnum):
    OPEN_RATE = "OPEN_RATE"
    CLICK_RATE = "CLICK_RATE"
    CONVERSION = "CONVERSION"  # a booking or purchase by the recipient within conversionDays


class Variant(_In):
    """What differs from the campaign's content: subject, body, channel or send time."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | None = None
    channel: Literal["EMAIL", "SMS", "PUSH"] | None = None
    sendAt: Aware | None = None
    requiresApproval: bool = False  # generated copy the AI gateway wants a person to approve


class AbTest(_In):
    variants: list[Variant] = Field(min_length=2, max_length=5)
    testShare: float = Field(default=0.2, gt=0, le=0.5)  # of the audience; the rest gets the winner
    metric: AbMetric = AbMetric.OPEN_RATE
    conversionDays: int = Field(default=7, ge=1, le=60)
    durationHours: float = Field(default=4, gt=0, le=24 * 14)
    confidence: float = Field(default=0.95, ge=0.8, le=0.999)
    # With no significant winner: send the best variant anyway, or send nothing more (the owner is told).
    noWinner: Literal["SEND_BEST", "SEND_NONE"] = "SEND_BEST"

    @model_validator(mode="after")
    def _unique(self) -> AbTest:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return self


class CampaignIn(_In):
    name: Name
    goal: Annotated[str, StringConstraints(max_length=500)] | None = None
    channels: list[Channel] = Field(min_length=1, max_length=4)
    targetSegmentId: Id
    exclusionSegmentIds: list[Id] = Field(default_factory=list, max_length=20)
    content: dict[Channel, ChannelContent]
    timeZone: TimeZone = DEFAULT_TIME_ZONE
    schedule: Schedule = Field(default_factory=Schedule)
    abTest: AbTest | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignIn:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels must be unique")
        missing = [c.value for c in self.channels if c not in self.content]
        if missing:
            raise ValueError(f"content is missing for channel(s) {', '.join(missing)}")
        extra = [c.value for c in self.content if c not in self.channels]
        if extra:
            raise ValueError(f"content given for channel(s) not in channels: {', '.join(extra)}")
        if self.abTest and Channel.SOCIAL in self.channels and len(self.channels) == 1:
            raise ValueError("an A/B test needs a message channel (EMAIL, SMS or PUSH)")
        return self


class CampaignPatch(_In):
    """Any fields of CampaignIn; the result is validated as a whole."""

    name: Name | None = None
    goal: str | None = None
    channels: list[Channel] | None = None
    targetSegmentId: Id | None = None
    exclusionSegmentIds: list[Id] | None = None
    content: dict[Channel, ChannelContent] | None = None
    timeZone: TimeZone | None = None
    schedule: Schedule | None = None
    abTest: AbTest | None = None


class CampaignOut(BaseModel):
    id: str
    name: str
    goal: str | None
    channels: list[Channel]
    targetSegmentId: str | None
    exclusionSegmentIds: list[str]
    content: dict[Channel, ChannelContent]
    timeZone: str
    schedule: Schedule
    abTest: AbTest | None
    state: State
    phase: str | None
    startsAt: datetime | None
    audienceSize: int | None
    submitted: int
    winner: str | None
    createdBy: str
    createdAt: datetime
    updatedAt: datetime
    startedAt: datetime | None
    finishedAt: datetime | None


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    nextCursor: str | None = None


class AudienceOut(BaseModel):
    count: int
    sample: list[str]  # profile ids
    excluded: int  # members of the target also in an exclusion segment


class TestSendIn(_In):
    profileIds: list[Id] = Field(min_length=1, max_length=10)


class GenerateIn(_In):
    """Ask the AI gateway for copy: `use` CONTENT writes the first variant into the channel's subject or body,
    AB_VARIANTS makes the variants the campaign's A/B test, NONE only returns them."""

    channel: Channel
    field: Literal["subject", "body"] = "body"
    tone: Literal["FORMAL", "FRIENDLY", "URGENT", "PLAYFUL"] = "FRIENDLY"
    maxLength: int | None = Field(default=None, ge=10, le=10_000)
    includeEmoji: bool = False
    callToAction: Annotated[str, StringConstraints(max_length=100)] | None = None
    variants: int = Field(default=1, ge=1, le=5)
    use: Literal["CONTENT", "AB_VARIANTS", "NONE"] = "CONTENT"


class GeneratedVariant(BaseModel):
    id: str
    content: str
    approach: str


class GenerateOut(BaseModel):
    variants: list[GeneratedVariant]
    source: str  # LLM, CACHE or FALLBACK
    decisionId: str | None
    requiresApproval: bool
    campaign: CampaignOut
