"""What the social endpoints share: the service state, the roles, the clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fairway_chassis import Principal, require_roles
from fairway_social.state import SocialState

READ_ROLES = ("staff", "marketer", "analyst", "service")
WRITE_ROLES = ("marketer", "staff", "service")
CONNECT_ROLES = ("marketer",)  # connecting a club's page or account: admins and marketers


def _social(request: Request) -> SocialState:
    return request.app.state.social


SocialDep = Annotated[SocialState, Depends(_social)]
Reader = Annotated[Principal, require_roles(*READ_ROLES)]
Writer = Annotated[Principal, require_roles(*WRITE_ROLES)]
Connector = Annotated[Principal, require_roles(*CONNECT_ROLES)]
