"""Upstream contract v1: the events SCL, TeeTime and Messaging publish (platform spec, section 13).

Each model is the `{"identity": ..., "payload": ...}` part of an upstream message; the envelope carries
id, type, tenant and time. Upstream payloads may grow fields Fairway does not know yet, so unknown fields
are ignored rather than rejected; the fields Fairway relies on are typed.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry
from fairway_schemas import IdentityHints

SCL, TEETIME, MESSAGING = "scl.events", "teetime.events", "messaging.events"


class _Payload(BaseModel):
    # Upstream ids arrive as numbers from some systems and as strings from others.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class UpstreamEvent(BaseModel):
    """An event about a person: identity hints are required."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    identity: IdentityHints


# -- SCL ---------------------------------------------------------------------------------------------
class MemberData(_Payload):
    firstName: str | None = None
    lastName: str | None = None
    dateOfBirth: date | None = None
    membershipNumber: str | None = None
    membershipTier: str | None = None
    membershipStatus: str | None = None
    memberSince: date | None = None
    membershipExpiry: date | None = None
    homeClub: str | None = None


@registry.event("scl.member.created", 1, topic=SCL)
class SclMemberCreated(UpstreamEvent):
    payload: MemberData


@registry.event("scl.member.updated", 1, topic=SCL)
class SclMemberUpdated(UpstreamEvent):
    payload: MemberData


class MembershipRenewedData(_Payload):
    membershipTier: str | None = None
    previousExpiry: date | None = None
    membershipExpiry: date
    amount: Decimal | None = Field(default=None, ge=0)
    currency: str = "ZAR"


@registry.event("scl.membership.renewed", 1, topic=SCL)
class SclMembershipRenewed(UpstreamEvent):
    payload: MembershipRenewedData


class MembershipCancelledData(_Payload):
    reason: str | None = None
    effectiveDate: date | None = None


@registry.event("scl.membership.cancelled", 1, topic=SCL)
class SclMembershipCancelled(UpstreamEvent):
    payload: MembershipCancelledData


class PaymentData(_Payload):
    paymentId: str
    amount: Decimal = Field(ge=0)
    currency: str = "ZAR"
    description: str | None = None


@registry.event("scl.payment.received", 1, topic=SCL)
class SclPaymentReceived(UpstreamEvent):
    payload: PaymentData


# -- TeeTime -----------------------------------------------------------------------------------------
class PlayerData(_Payload):
    firstName: str | None = None
    lastName: str | None = None
    handicap: float | None = None
    homeClub: str | None = None


@registry.event("teetime.player.created", 1, topic=TEETIME)
class TeetimePlayerCreated(UpstreamEvent):
    payload: PlayerData


class BookingData(_Payload):
    bookingId: str
    teeTime: datetime | None = None
    courseName: str | None = None
    players: int = Field(default=1, ge=1, le=8)
    amount: Decimal | None = Field(default=None, ge=0)


@registry.event("teetime.booking.created", 1, topic=TEETIME)
class TeetimeBookingCreated(UpstreamEvent):
    payload: BookingData


class BookingCancelledData(_Payload):
    bookingId: str
    reason: str | None = None


@registry.event("teetime.booking.cancelled", 1, topic=TEETIME)
class TeetimeBookingCancelled(UpstreamEvent):
    payload: BookingCancelledData


class RoundData(_Payload):
    roundId: str
    courseName: str | None = None
    holes: int = Field(default=18, ge=1, le=36)
    score: int | None = Field(default=None, ge=1)


@registry.event("teetime.round.played", 1, topic=TEETIME)
class TeetimeRoundPlayed(UpstreamEvent):
    payload: RoundData


class HandicapData(_Payload):
    handicap: float = Field(ge=-10, le=54)
    previousHandicap: float | None = None


@registry.event("teetime.handicap.updated", 1, topic=TEETIME)
class TeetimeHandicapUpdated(UpstreamEvent):
    payload: HandicapData


class PurchaseData(_Payload):
    purchaseId: str
    amount: Decimal = Field(ge=0)
    currency: str = "ZAR"
    quantity: int = Field(default=1, ge=0)
    category: str | None = None


@registry.event("teetime.purchase.completed", 1, topic=TEETIME)
class TeetimePurchaseCompleted(UpstreamEvent):
    payload: PurchaseData


class CompetitionData(_Payload):
    competitionId: str
    name: str
    startsAt: datetime
    entryDeadline: datetime | None = None
    format: str | None = None
    entryFee: Decimal | None = Field(default=None, ge=0)
    description: str | None = None


@registry.event("teetime.competition.published", 1, topic=TEETIME)
class TeetimeCompetitionPublished(BaseModel):
    """Not about a person: the only upstream event whose identity may be empty."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    identity: dict[str, str | None] = Field(default_factory=dict)
    payload: CompetitionData


class _NoPerson(BaseModel):
    """A competition event about no person: identity may be empty."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    identity: dict[str, str | None] = Field(default_factory=dict)


class CompetitionDetails(CompetitionData):
    """The competition as it is after a change; `changed` names the fields that changed."""

    capacity: int | None = Field(default=None, ge=1)  # the most entries it takes
    changed: list[str] = Field(default_factory=list)  # e.g. startsAt, entryDeadline, capacity, description


@registry.event("teetime.competition.updated", 1, topic=TEETIME)
class TeetimeCompetitionUpdated(_NoPerson):
    payload: CompetitionDetails


class EntryData(_Payload):
    competitionId: str
    entryId: str
    entries: int | None = Field(default=None, ge=0)  # entries after this one, as TeeTime counts them
    capacity: int | None = Field(default=None, ge=1)
    reason: str | None = None  # a withdrawal's reason


@registry.event("teetime.competition.entry_created", 1, topic=TEETIME)
class TeetimeCompetitionEntryCreated(UpstreamEvent):
    """A player entered: the identity is the player's."""

    payload: EntryData


@registry.event("teetime.competition.entry_cancelled", 1, topic=TEETIME)
class TeetimeCompetitionEntryCancelled(UpstreamEvent):
    """A player withdrew (or was withdrawn): the identity is the player's."""

    payload: EntryData


class CompetitionFullData(_Payload):
    competitionId: str
    capacity: int | None = Field(default=None, ge=1)
    entries: int | None = Field(default=None, ge=0)
    waitingList: bool = False  # TeeTime keeps taking names for a waiting list


@registry.event("teetime.competition.full", 1, topic=TEETIME)
class TeetimeCompetitionFull(_NoPerson):
    payload: CompetitionFullData


class CompetitionCancelledData(_Payload):
    competitionId: str
    reason: str | None = None


@registry.event("teetime.competition.cancelled", 1, topic=TEETIME)
class TeetimeCompetitionCancelled(_NoPerson):
    payload: CompetitionCancelledData


# Upstream events about no person: identity resolution, timelines and features have nobody to attach them to.
NO_PERSON_EVENTS = frozenset({"teetime.competition.published", "teetime.competition.updated",
                              "teetime.competition.full", "teetime.competition.cancelled"})


# -- Messaging ---------------------------------------------------------------------------------------
class MessageData(_Payload):
    messageId: str
    sendRequestId: str | None = None
    campaignId: str | None = None
    journeyId: str | None = None
    variant: str | None = None


class EmailData(MessageData):
    subject: str | None = None
    url: str | None = None
    bounceType: Literal["HARD", "SOFT"] | None = None


def _messaging(event_type: str, payload_model: type[_Payload]) -> type[UpstreamEvent]:
    name = "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))
    model = type(name, (UpstreamEvent,), {"__annotations__": {"payload": payload_model}, "__module__": __name__})
    registry.register(event_type, 1, model, MESSAGING)
    return model


MessagingEmailSent = _messaging("messaging.email.sent", EmailData)
MessagingEmailDelivered = _messaging("messaging.email.delivered", EmailData)
MessagingEmailOpened = _messaging("messaging.email.opened", EmailData)
MessagingEmailClicked = _messaging("messaging.email.clicked", EmailData)
MessagingEmailBounced = _messaging("messaging.email.bounced", EmailData)
MessagingSmsSent = _messaging("messaging.sms.sent", MessageData)
MessagingSmsDelivered = _messaging("messaging.sms.delivered", MessageData)
MessagingPushSent = _messaging("messaging.push.sent", MessageData)
MessagingPushOpened = _messaging("messaging.push.opened", MessageData)


class UnsubscribedData(_Payload):
    channel: Literal["EMAIL", "SMS", "PUSH", "WHATSAPP", "ALL"] = "ALL"
    reason: str | None = None


@registry.event("messaging.unsubscribed", 1, topic=MESSAGING)
class MessagingUnsubscribed(UpstreamEvent):
    payload: UnsubscribedData


class ContactPreferenceData(_Payload):
    """Messaging owns consent; Fairway mirrors exactly these flags."""

    emailOptIn: bool | None = None
    smsOptIn: bool | None = None
    pushOptIn: bool | None = None
    whatsappOptIn: bool | None = None
    aiMarketingConsent: bool | None = None
    doNotProfile: bool | None = None


@registry.event("contactPreference.updated", 1, topic=MESSAGING)
class ContactPreferenceUpdated(UpstreamEvent):
    payload: ContactPreferenceData


UPSTREAM_TOPICS = (SCL, TEETIME, MESSAGING)
