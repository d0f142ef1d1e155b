from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_JOURNEYS_", extra="ignore")
    service_name: ClassVar[str] = "journeys"
    default_port: ClassVar[int] = 8005
    # Timer jobs are scheduled for the second they fall due; the worker looks for scheduled jobs this often.
    jobs_poll_seconds: float = Field(default=1.0, gt=0)
    ai_timeout_seconds: float = Field(default=8.0, gt=0, le=120)  # journey.generate / journey.insights
