"""Service settings: one env prefix per service (FAIRWAY_IDENTITY_...), platform-wide fallbacks (FAIRWAY_...).

Settings refuse to start on bad config: a placeholder or short JWT secret, a non-PostgreSQL URL, a broker
address without a port.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "dev", "test", "jwt-secret", ""}


class ServiceSettings(BaseSettings):
    """Subclass per service and set `model_config = SettingsConfigDict(env_prefix="FAIRWAY_<NAME>_")`."""

    model_config = SettingsConfigDict(extra="ignore")
    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    # A server URL (database name appended) or a full URL with a database.
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_name: str | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    # Tansu holds a new group member for half the session timeout before it assigns partitions.
    kafka_session_timeout_ms: int = Field(default=10000, ge=1000, le=300000)
    # A batch that would take longer is cut short by the consumer (it paces itself to a quarter of this).
    kafka_max_poll_interval_ms: int = Field(default=300000, ge=1000, le=3600000)
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    jwks_url: str | None = None
    jwt_audience: str | None = None
    # Hostile input stops at the door (fairway_chassis.guard): larger bodies are a 413, deeper JSON a 422.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=4, le=200)
    log_level: str = "INFO"
    log_json: bool = True
    tenants: list[str] | None = None  # when set, events of other tenants are dead-lettered
    run_relay: bool = True
    # A broker found empty (Tansu restarted, a cluster rebuilt): what the relay published this long before the
    # broker was last seen whole is published again, for readers that had not read it yet (their inboxes drop
    # repeats). Longer than any reader's lag.
    broker_loss_replay_seconds: float = Field(default=900.0, ge=0)
    # Off where migrations run as their own step first (`fairway migrate`, a Kubernetes Job before the rollout).
    migrate_on_start: bool = True
    state_publish_seconds: float = Field(default=1.0, gt=0, le=60)  # how often changed rows go to state topics
    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    # Durable jobs (procrastinate; fairway_chassis.jobs), for services that declare a JobRegistry.
    run_jobs_worker: bool = True
    jobs_concurrency: int = Field(default=4, ge=1, le=64)
    jobs_heartbeat_seconds: float = Field(default=10.0, gt=0)
    # A worker silent this long is dead: its running jobs go back to the queue.
    jobs_stalled_seconds: float = Field(default=30.0, gt=0)
    jobs_poll_seconds: float = Field(default=5.0, gt=0)  # safety net behind LISTEN/NOTIFY
    jobs_shutdown_seconds: float = Field(default=10.0, ge=0)  # running jobs get this long to finish on stop

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        platform_env = EnvSettingsSource(settings_cls, env_prefix="FAIRWAY_")
        return init_settings, env_settings, platform_env, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, v: str) -> str:
        if not v.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql+asyncpg://user@host:port/db)")
        return re.sub(r"^(postgresql|postgres)://", "postgresql+asyncpg://", v)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, v: str) -> str:
        for part in v.split(","):
            if not re.fullmatch(r"[\w.\-]+:\d{2,5}", part.strip()):
                raise ValueError(f"broker address {part!r} must be host:port")
        return v

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if v and not re.fullmatch(r"[A-Za-z0-9._-]+", v):
            raise ValueError("topic prefix may hold letters, digits, '.', '_' and '-' only")
        return v

    @model_validator(mode="after")
    def _auth(self) -> ServiceSettings:
        if self.jwks_url:
            if self.jwt_algorithm not in {"RS256", "RS384", "RS512", "ES256"}:
                raise ValueError("jwks_url needs an asymmetric jwt_algorithm such as RS256")
        else:
            s = self.jwt_secret or ""
            if s.lower() in PLACEHOLDER_SECRETS or len(s) < 32:
                raise ValueError(
                    "jwt_secret must be set to a random value of at least 32 characters "
                    "(FAIRWAY_JWT_SECRET), or configure jwks_url for RS256"
                )
        if self.jobs_stalled_seconds <= self.jobs_heartbeat_seconds:
            raise ValueError("jobs_stalled_seconds must exceed jobs_heartbeat_seconds")
        if self.port == 0:
            self.port = self.default_port
        return self

    @property
    def db_name(self) -> str:
        return self.database_name or f"fairway_{self.service_name.replace('-', '_')}"

    @property
    def service_database_url(self) -> str:
        """The URL of this service's own database on the configured server."""
        base, _, _ = self.database_url.rpartition("/")
        return f"{base}/{self.db_name}"

    def public(self) -> dict[str, Any]:
        d = self.model_dump()
        d["jwt_secret"] = "***" if self.jwt_secret else None
        return d
