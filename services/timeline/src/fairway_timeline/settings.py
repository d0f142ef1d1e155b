from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_TIMELINE_", extra="ignore")
    service_name: ClassVar[str] = "timeline"
    default_port: ClassVar[int] = 8002
