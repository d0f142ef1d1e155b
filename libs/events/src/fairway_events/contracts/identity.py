"""crm.identity: what identity tells every other service about people. Keyed by profile id.

Read models elsewhere are built from these events alone, so they carry attributes and consent flags.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.identity"
KeyType = Literal["authUserId", "email", "phoneNumber", "sclMemberId", "teetimePlayerId", "messagingContactId"]
ProfileStatus = Literal["ACTIVE", "INACTIVE", "MERGED", "DELETED"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Identities(_Model):
    """Every key linked to the profile (a person may have several emails or phones)."""

    authUserId: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    phoneNumber: list[str] = Field(default_factory=list)
    sclMemberId: list[str] = Field(default_factory=list)
    teetimePlayerId: list[str] = Field(default_factory=list)
    messagingContactId: list[str] = Field(default_factory=list)


class Attributes(_Model):
    firstName: str | None = None
    lastName: str | None = None
    dateOfBirth: date | None = None
    membershipNumber: str | None = None
    membershipTier: str | None = None
    membershipStatus: str | None = None
    memberSince: date | None = None
    membershipExpiry: date | None = None
    handicap: float | None = None
    homeClub: str | None = None
    lifetimeValue: int | None = None  # cents


class Consent(_Model):
    """Mirrored from Messaging's contactPreference.updated; never set from anything else."""

    emailOptIn: bool | None = None
    smsOptIn: bool | None = None
    pushOptIn: bool | None = None
    whatsappOptIn: bool | None = None
    aiMarketingConsent: bool | None = None
    doNotProfile: bool | None = None


class ProfileSnapshot(_Model):
    profileId: str
    status: ProfileStatus
    lifecycleStage: str = "SUBSCRIBER"
    identities: Identities
    attributes: Attributes
    consent: Consent
    tags: list[str] = Field(default_factory=list)


@registry.event("profile.created", 1, topic=TOPIC)
class ProfileCreated(_Model):
    profile: ProfileSnapshot
    sourceEventId: str | None = None
    matchedBy: list[str] = Field(default_factory=list)


@registry.event("profile.updated", 1, topic=TOPIC)
class ProfileUpdated(_Model):
    """Changed fields only, with their new values: attribute names (as in Attributes, lifetimeValue included),
    status, lifecycleStage, tags; `identities` (the full Identities) when a key was unlinked because its value
    was blocked as shared by too many people. Consent changes come as profile.consent_changed instead."""

    profileId: str
    changes: dict[str, Any]
    sourceEventId: str | None = None


@registry.event("profile.identity_linked", 1, topic=TOPIC)
class ProfileIdentityLinked(_Model):
    profileId: str
    keyType: KeyType
    value: str
    sourceEventId: str | None = None
    matchedBy: list[str] = Field(default_factory=list)
    confidence: int = Field(ge=0, le=100)


@registry.event("profile.merged", 1, topic=TOPIC)
class ProfileMerged(_Model):
    """The loser is now MERGED into the winner; `winner` is the winner's state after the merge."""

    winnerId: str
    loserId: str
    winner: ProfileSnapshot
    reason: str | None = None


@registry.event("profile.unmerged", 1, topic=TOPIC)
class ProfileUnmerged(_Model):
    """Both profiles as they would be had the merge never happened."""

    profileId: str  # the former winner
    restoredId: str  # the former loser, ACTIVE again
    profile: ProfileSnapshot
    restored: ProfileSnapshot


@registry.event("profile.erased", 1, topic=TOPIC)
class ProfileErased(_Model):
    """Every service purges its copy of this person. Carries no PII."""

    profileId: str
    erasedAt: datetime


@registry.event("profile.consent_changed", 1, topic=TOPIC)
class ProfileConsentChanged(_Model):
    profileId: str
    consent: Consent  # the full mirrored state after the change
    changed: list[str]  # which flags changed
    changedAt: datetime
    sourceEventId: str | None = None


@registry.event("profile.merge_candidate", 1, topic=TOPIC)
class ProfileMergeCandidate(_Model):
    candidateId: str
    profileIds: list[str] = Field(min_length=2, max_length=2)
    evidence: list[dict[str, Any]]
    sourceEventId: str | None = None
