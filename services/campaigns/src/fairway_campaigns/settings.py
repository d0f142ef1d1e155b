from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_CAMPAIGNS_", extra="ignore")
    service_name: ClassVar[str] = "campaigns"
    default_port: ClassVar[int] = 8004
    # Recipients per fan-out transaction: each is one commit of dispatch's ledger rows, send requests and checkpoint.
    fanout_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long a person waits for the AI gateway's copy (content/generate) before a 503 tells them to write it.
    ai_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
