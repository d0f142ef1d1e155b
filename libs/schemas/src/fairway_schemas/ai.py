"""Request/reply contracts of the AI gateway's operations (reached over Kafka, see fairway_events.rpc).

Every reply carries `source` (LLM, CACHE or FALLBACK) and `decisionId`, the id of the gateway's audit record
(`GET /api/v1/ai/explain/{decisionId}` on the gateway explains it). `fallbackReason` says why a FALLBACK
answered (OFFLINE, BUDGET_EXCEEDED, CIRCUIT_OPEN, INVALID_OUTPUT, ...).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fairway_schemas.criteria import FieldSpec, Group

AI_REQUEST_TOPIC = "crm.ai.requests"
Source = Literal["LLM", "CACHE", "FALLBACK"]

TokenName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class SegmentParseRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    query: str = Field(min_length=1, max_length=1000)
    fields: list[FieldSpec] | None = None  # None: the standard catalogue of fairway_schemas.criteria
    existingSegments: list[str] = Field(default_factory=list)


class SegmentParseResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    criteria: Group
    interpretation: str
    assumptions: list[str] = Field(default_factory=list)
    source: Source
    decisionId: str | None = None
    model: str | None = None
    # Added by the gateway (optional for readers): why a fallback answered, and what a reviewer should check.
    fallbackReason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    # The criteria read back in plain language (whoever wrote them), and what of the query was not understood:
    # a `partial` answer holds only what was understood and must be checked before it is saved.
    reading: str = ""
    partial: bool = False
    unparsed: list[str] = Field(default_factory=list)


# -- content.generate -------------------------------------------------------------------------------------

ContentType = Literal["EMAIL_SUBJECT", "EMAIL_BODY", "SMS", "SOCIAL_POST", "PUSH"]
Tone = Literal["FORMAL", "FRIENDLY", "URGENT", "PLAYFUL"]
EngagementLevel = Literal["HIGH", "MEDIUM", "LOW"]
SocialPlatform = Literal["FACEBOOK", "INSTAGRAM", "X", "LINKEDIN"]


class AudienceCharacteristics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    avgAge: float | None = Field(default=None, ge=0, le=120)
    avgHandicap: float | None = Field(default=None, ge=-10, le=54)
    primaryMembershipTier: str | None = Field(default=None, max_length=50)
    topActivities: list[ShortText] = Field(default_factory=list, max_length=10)
    engagementLevel: EngagementLevel = "MEDIUM"


class AudienceContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    segmentName: str = Field(min_length=1, max_length=200)
    segmentSize: int = Field(default=0, ge=0)
    characteristics: AudienceCharacteristics = Field(default_factory=AudienceCharacteristics)


class ProfileContext(BaseModel):
    """One customer, for personalised content. The gateway applies the AI spec's field policy before anything
    leaves: excluded fields never do, tokenised fields go as {{placeholders}}, aggregated fields as ranges.
    Unknown fields are refused: put anything else in `attributes`, where the policy applies too."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    profileId: str | None = Field(default=None, max_length=100)
    # tokenised
    firstName: str | None = Field(default=None, max_length=100)
    lastName: str | None = Field(default=None, max_length=100)
    memberNumber: str | None = Field(default=None, max_length=50)
    # excluded: accepted so callers need not strip them, never sent anywhere
    email: str | None = Field(default=None, max_length=320)
    phoneNumber: str | None = Field(default=None, max_length=50)
    dateOfBirth: date | None = None
    address: str | None = Field(default=None, max_length=500)
    idNumber: str | None = Field(default=None, max_length=50)
    passportNumber: str | None = Field(default=None, max_length=50)
    # aggregated
    lifetimeValue: float | None = Field(default=None, ge=0)  # cents
    age: int | None = Field(default=None, ge=0, le=130)
    engagementScore: float | None = Field(default=None, ge=0, le=100)
    # safe
    membershipTier: str | None = Field(default=None, max_length=50)
    handicap: float | None = Field(default=None, ge=-10, le=54)
    preferredChannel: str | None = Field(default=None, max_length=30)
    homeClub: str | None = Field(default=None, max_length=100)
    tags: list[ShortText] = Field(default_factory=list, max_length=30)
    # consent
    aiMarketingConsent: bool = False
    doNotProfile: bool = False
    attributes: dict[Annotated[str, StringConstraints(max_length=60)], str | int | float | bool | None] = (
        Field(default_factory=dict, max_length=30)
    )


class ContentGenerateRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: ContentType
    campaignGoal: str = Field(min_length=1, max_length=500)
    audience: AudienceContext | None = None
    tone: Tone = "FRIENDLY"
    variantCount: int = Field(default=3, ge=1, le=5)
    maxLength: int | None = Field(default=None, ge=10, le=10000)
    includeEmoji: bool = False
    callToAction: str | None = Field(default=None, max_length=100)
    availableTokens: list[TokenName] = Field(default_factory=list, max_length=20)
    brandVoice: str | None = Field(default=None, max_length=300)  # added to the tenant's brand voice
    avoidWords: list[ShortText] = Field(default_factory=list, max_length=50)  # added to the tenant's list
    platform: SocialPlatform | None = None
    notes: str | None = Field(default=None, max_length=1000)
    profile: ProfileContext | None = None
    # The caller will show this output to `profile` only: tokens of tokenised fields may be filled in.
    personalize: bool = False


class ContentVariant(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    content: str
    approach: str


class ContentGenerateResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: ContentType
    variants: list[ContentVariant]
    source: Source
    decisionId: str | None = None
    model: str | None = None
    personalized: bool = False
    requiresApproval: bool = False
    fallbackReason: str | None = None
    warnings: list[str] = Field(default_factory=list)


# -- journey.generate, journey.insights -------------------------------------------------------------------


JourneyChannel = Literal["EMAIL", "SMS", "PUSH"]
DEFAULT_JOURNEY_CHANNELS: tuple[JourneyChannel, ...] = ("EMAIL", "SMS")


class JourneyConstraints(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    maxSteps: int = Field(default=10, ge=2, le=50)
    channels: list[JourneyChannel] = Field(default_factory=lambda: list(DEFAULT_JOURNEY_CHANNELS), min_length=1)
    maxDurationDays: int = Field(default=30, ge=1, le=365)


class JourneyGenerateRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    goal: str = Field(min_length=1, max_length=1000)
    constraints: JourneyConstraints = Field(default_factory=JourneyConstraints)
    fields: list[FieldSpec] | None = None  # fields a CONDITION may name; None: the standard catalogue
    triggerEvents: list[str] = Field(default_factory=list, max_length=50)  # event types a journey may start on


class JourneyGenerateResult(BaseModel):
    """`definition` is None when no model answered (the caller uses a template)."""

    model_config = ConfigDict(frozen=True)
    name: str | None = None
    definition: dict[str, object] | None = None
    rationale: str = ""
    source: Source
    decisionId: str | None = None
    model: str | None = None
    fallbackReason: str | None = None
    warnings: list[str] = Field(default_factory=list)


class JourneyInsightsRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    journeyName: str = Field(min_length=1, max_length=200)
    goal: str | None = Field(default=None, max_length=1000)
    stats: dict[str, object]  # counts and rates only, never people


class JourneyInsightsResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    insights: list[str] = Field(default_factory=list)  # empty when no model answered
    source: Source
    decisionId: str | None = None
    model: str | None = None
    fallbackReason: str | None = None
    warnings: list[str] = Field(default_factory=list)
