from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_CAMPAIGNS_", extra="ignore")
    service_name: ClassVar[str] = "campaigns"
    default_port: ClassVar[int] = 8004
