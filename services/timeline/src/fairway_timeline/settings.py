from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_TIMELINE_", extra="ignore")
    service_name: ClassVar[str] = "timeline"
    default_port: ClassVar[int] = 8002

    # Phone hints are normalised to E.164 the way identity does it: with a per-tenant default region.
    default_phone_region: str = "ZA"
    phone_regions: dict[str, str] = Field(
        default_factory=dict
    )  # tenant id -> ISO region, e.g. {"club-uk": "GB"}
    # How often the background sweep re-checks rolling windows and purges expired pending data.
    sweep_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Upstream events whose keys identity never announces are dropped after this long.
    pending_ttl_hours: float = Field(default=72.0, gt=0)
    # Hashed keys of erased profiles, kept so late events from before the erasure are not stored again.
    erased_key_retention_days: float = Field(default=30.0, gt=0)
    consumer_batch_size: int = Field(default=500, ge=1, le=5000)

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, v: str) -> str:
        import phonenumbers

        if v.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{v!r} is not a phone region phonenumbers knows (e.g. ZA, GB, US)")
        return v.upper()

    @field_validator("phone_regions")
    @classmethod
    def _regions(cls, v: dict[str, str]) -> dict[str, str]:
        import phonenumbers

        bad = [r for r in v.values() if r.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if bad:
            raise ValueError(f"unknown phone regions: {', '.join(bad)}")
        return {t: r.upper() for t, r in v.items()}

    def phone_region(self, tenant_id: str) -> str:
        return self.phone_regions.get(tenant_id, self.default_phone_region)
