"""The social service's settings (FAIRWAY_SOCIAL_...). It refuses to start without a token key and an OAuth state
secret of real length: a connection's tokens are worthless to steal from the database only if the key is not there
too."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_SOCIAL_", extra="ignore")
    service_name: ClassVar[str] = "social"
    default_port: ClassVar[int] = 8006

    # Token encryption (AES-256-GCM). "kid:base64-of-32-bytes", newest first: the first key encrypts, every key
    # decrypts; a ciphertext under an older key is re-encrypted under the first when next read.
    token_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)  # env: comma-separated
    # HMAC key of the OAuth `state` parameter.
    state_secret: str | None = None
    state_ttl_seconds: int = Field(default=600, ge=10, le=3600)
    # Where the platform sends the user back (the frontend's page, which posts code and state to /callback).
    redirect_uri: str = "http://127.0.0.1:8006/api/v1/social/connections/oauth/return"
    # Public base URL of this service: Instagram fetches a post's images from it.
    public_url: str = "http://127.0.0.1:8006"

    facebook_auth_url: str = "https://www.facebook.com"
    facebook_graph_url: str = "https://graph.facebook.com"
    graph_version: str = "v19.0"
    facebook_app_id: str = "fairway-local"
    facebook_app_secret: str = "fairway-local-secret"  # noqa: S105 (the fake's; production sets its own)
    x_auth_url: str = "https://x.com"
    x_api_url: str = "https://api.x.com"
    x_client_id: str = "fairway-local"
    x_client_secret: str = "fairway-local-secret"  # noqa: S105

    platform_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    refresh_margin_seconds: int = Field(default=300, ge=0)  # refresh a token this long before it expires
    # An attempt whose outcome is unknown is checked against the platform; if the post is not there this long
    # after the attempt, it did not happen and may be made again.
    unconfirmed_settle_seconds: float = Field(default=60.0, ge=0)
    unconfirmed_check_seconds: float = Field(default=10.0, gt=0)  # first check after an unknown outcome
    # A stuck PUBLISHING attempt (its worker died) is looked at again after this long.
    stuck_after_seconds: float = Field(default=120.0, gt=0)
    instagram_poll_seconds: float = Field(default=1.0, gt=0)
    instagram_poll_attempts: int = Field(default=30, ge=1)
    engagement_days: int = Field(default=7, ge=1, le=90)  # posts this recent get their engagement fetched
    max_media_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    ai_timeout_seconds: float = Field(default=20.0, gt=0)
    time_zone: str = "Africa/Johannesburg"  # the calendar's zone for tenants not in tenant_time_zones
    tenant_time_zones: dict[str, str] = Field(default_factory=dict)  # tenant -> IANA zone (JSON in the env)
    run_worker: bool = True  # run the procrastinate worker in this process

    @field_validator("token_keys", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str) and not v.strip().startswith("["):
            return [k.strip() for k in v.split(",") if k.strip()]
        return v

    @field_validator("token_keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for entry in v:
            kid, sep, material = entry.partition(":")
            if not sep or not kid or kid in seen:
                raise ValueError("each token key is 'kid:base64' with a unique kid")
            seen.add(kid)
            try:
                raw = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"token key {kid!r} is not base64") from exc
            if len(raw) != 32:
                raise ValueError(f"token key {kid!r} must be 32 bytes (AES-256)")
        return v

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(v)  # fails on an unknown zone
        return v

    @field_validator("tenant_time_zones")
    @classmethod
    def _zones(cls, v: dict[str, str]) -> dict[str, str]:
        from zoneinfo import ZoneInfo

        for zone in v.values():
            ZoneInfo(zone)
        return v

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        if not self.token_keys:
            raise ValueError("token_keys must hold at least one key (FAIRWAY_SOCIAL_TOKEN_KEYS='k1:<base64 32 bytes>')")
        if not self.state_secret or len(self.state_secret) < 32:
            raise ValueError("state_secret must be at least 32 characters (FAIRWAY_SOCIAL_STATE_SECRET)")
        return self
