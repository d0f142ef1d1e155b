"""Identity settings. Resolution policy is configurable per installation and, where clubs differ (phone
region, currency), per tenant. Bad policy refuses to start rather than resolving people wrongly.
"""

from __future__ import annotations

from typing import ClassVar

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings

KEY_TYPES = ("authUserId", "email", "phoneNumber", "sclMemberId", "teetimePlayerId", "messagingContactId")
SYSTEM_IDS = ("authUserId", "sclMemberId", "teetimePlayerId", "messagingContactId")


class ResolutionPolicy(BaseModel):
    """How one tenant resolves people. Defaults suit a South African club."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Phones without a country code are read in this region (ISO 3166 alpha-2).
    default_region: str = "ZA"
    # lifetimeValue sums payments and purchases in this currency; other currencies are not converted.
    currency: str = Field(default="ZAR", pattern=r"^[A-Z]{3}$")
    # A conflict auto-merges only when both keys are at least this confident (authUserId/system ids 100,
    # email 95, phone 85). 100 = only system id vs system id; 101 = never. Email-vs-phone needs <= 85.
    auto_merge_min_confidence: int = Field(default=100, ge=0, le=101)
    # A value that conflicts across this many distinct profiles is blocked as an identifier (shared inboxes,
    # reception phones), like Segment's blocked values.
    shared_value_threshold: int = Field(default=3, ge=2, le=1000)
    # At most this many emails / phones per profile; further ones are not linked (noted in the log).
    max_emails: int = Field(default=5, ge=1, le=100)
    max_phones: int = Field(default=5, ge=1, le=100)
    # System ids that identify exactly one person: a profile holds one value of each, and an event that
    # brings a different value is a different person even if it shares an email or phone.
    unique_ids: tuple[str, ...] = SYSTEM_IDS
    # Extra values never used as identifiers, written "keyType:value" in normalised form.
    blocked_values: tuple[str, ...] = ()

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str) -> str:
        v = v.upper()
        if v not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{v!r} is not a phone region phonenumbers knows (e.g. ZA, GB, US)")
        return v

    @field_validator("unique_ids")
    @classmethod
    def _unique_ids(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in SYSTEM_IDS]
        if bad:
            raise ValueError(f"unique_ids may hold only {', '.join(SYSTEM_IDS)}; got {bad}")
        return v

    @field_validator("blocked_values")
    @classmethod
    def _blocked(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            kind, _, value = item.partition(":")
            if kind not in KEY_TYPES or not value:
                raise ValueError(f"blocked value {item!r} must be written keyType:value")
        return v


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_IDENTITY_", extra="ignore")
    service_name: ClassVar[str] = "identity"
    default_port: ClassVar[int] = 8001

    policy: ResolutionPolicy = ResolutionPolicy()
    # Per-tenant overrides of `policy` fields, e.g. {"club-uk": {"default_region": "GB", "currency": "GBP"}}.
    tenant_policies: dict[str, dict] = Field(default_factory=dict)
    # Larger batches amortise round trips: the consumer resolves a whole batch with a handful of queries.
    consumer_batch_size: int = Field(default=1000, ge=1, le=10000)
    _policies: dict[str, ResolutionPolicy] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _tenant_policies(self) -> Settings:
        # Validated here so a typo in one tenant's override stops the service at start.
        self._policies = {
            t: ResolutionPolicy(**{**self.policy.model_dump(), **o}) for t, o in self.tenant_policies.items()
        }
        return self

    def policy_for(self, tenant_id: str) -> ResolutionPolicy:
        return self._policies.get(tenant_id, self.policy)
