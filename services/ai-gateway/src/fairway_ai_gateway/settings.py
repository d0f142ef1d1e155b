from typing import ClassVar

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings

# Logical model names (TenantAIConfig.preferredModel) -> the provider's model ids.
DEFAULT_MODEL_IDS = {"CLAUDE_HAIKU": "claude-haiku-4-5", "CLAUDE_SONNET": "claude-sonnet-4-5"}
# USD per million tokens (input, output): what Anthropic lists for these models.
DEFAULT_PRICES = {"claude-haiku-4-5": (1.0, 5.0), "claude-sonnet-4-5": (3.0, 15.0)}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_AI_GATEWAY_", extra="ignore")
    service_name: ClassVar[str] = "ai-gateway"
    default_port: ClassVar[int] = 8008

    # The provider. Platform-wide names (not FAIRWAY_AI_GATEWAY_*), as the issue fixes them. No key: offline.
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FAIRWAY_AI_ANTHROPIC_BASE_URL", "anthropic_base_url")
    )
    anthropic_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("FAIRWAY_AI_ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    model_ids: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MODEL_IDS))
    prices_per_mtok: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    # The SDK's own OpenTelemetry spans of each provider call (off: they cost CPU on every call, see make_sdk).
    provider_tracing: bool = False

    # Resilience.
    provider_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    provider_max_retries: int = Field(default=2, ge=0, le=5)  # on 429/5xx/timeouts, honouring retry-after
    provider_backoff_seconds: float = Field(default=0.5, ge=0, le=30)
    provider_max_retry_after_seconds: float = Field(default=10.0, ge=0, le=120)
    request_deadline_seconds: float = Field(default=25.0, gt=0, le=600)
    breaker_failure_threshold: int = Field(default=5, ge=1, le=100)
    breaker_success_threshold: int = Field(default=1, ge=1, le=100)
    breaker_open_seconds: float = Field(default=30.0, gt=0, le=3600)
    breaker_half_open_probes: int = Field(default=1, ge=1, le=20)

    # Governance.
    default_region: str = "ZA"  # phone numbers without a country code are read as this region's
    default_timezone: str = "Africa/Johannesburg"
    config_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    reservation_ttl_seconds: float = Field(default=300.0, gt=0)  # an unsettled reservation is released after
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    max_caller_text: int = Field(default=1000, ge=50, le=10000)
    hot_pool_size: int = Field(default=10, ge=1, le=100)  # most connections of the LLM path's asyncpg pool

    @field_validator("anthropic_api_key", "anthropic_base_url")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @model_validator(mode="after")
    def _sweeper_after_deadline(self) -> "Settings":
        # The sweeper charges a reservation left unsettled at its worst case: it must never reach one whose
        # request is still running.
        if self.reservation_ttl_seconds <= self.request_deadline_seconds:
            raise ValueError("reservation_ttl_seconds must be longer than request_deadline_seconds")
        return self

    @property
    def offline(self) -> bool:
        return not self.anthropic_api_key
