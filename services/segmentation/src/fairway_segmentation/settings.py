from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_SEGMENTATION_", extra="ignore")
    service_name: ClassVar[str] = "segmentation"
    default_port: ClassVar[int] = 8003

    # Static members arrive as CSV files of up to 10 MB (segments.service.MAX_CSV_BYTES), so bodies may be larger
    # here than the chassis' default; beyond this the request guard answers 413 before reading further.
    max_body_bytes: int = Field(default=11 * 1024 * 1024, ge=1024)
    # How long POST /segments/nl waits for the AI gateway's segment.parse before answering 504.
    ai_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # The maintenance loop: how often it wakes, how often segments with relative dates on timestamps are
    # re-evaluated (segments on calendar days are re-evaluated once the UTC day changes), and how often every
    # active dynamic segment gets a full scheduled refresh (a size-history point and a safety net).
    maintenance: bool = True
    maintenance_interval_seconds: float = Field(default=15.0, gt=0, le=3600)
    time_recheck_seconds: float = Field(default=60.0, gt=0, le=86400)
    refresh_interval_hours: float = Field(default=24.0, gt=0, le=24 * 31)
