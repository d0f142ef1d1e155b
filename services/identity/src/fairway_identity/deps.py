"""Dependencies the identity endpoints share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fairway_chassis import Principal, require_roles
from fairway_identity.settings import Settings

READ_ROLES = ("staff", "marketer", "analyst", "service")
EDIT_ROLES = ("staff", "marketer")
MERGE_ROLES = ("staff",)
PRIVACY_ROLES = ("admin",)  # erasure and export: the club's data controller only


def _settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


SettingsDep = Annotated[Settings, Depends(_settings)]
Reader = Annotated[Principal, require_roles(*READ_ROLES)]
Editor = Annotated[Principal, require_roles(*EDIT_ROLES)]
Merger = Annotated[Principal, require_roles(*MERGE_ROLES)]
PrivacyOfficer = Annotated[Principal, require_roles(*PRIVACY_ROLES)]
