"""What the social endpoints share: the service state, the roles, the clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fairway_chassis import Principal, require_roles, runtime_state
from fairway_social.state import SocialState

READ_ROLES = ("staff", "marketer", "analyst", "service")
WRITE_ROLES = ("marketer", "staff", "service")
CONNECT_ROLES = ("marketer",)  # connecting a club's page or account: admins and marketers


SocialDep = Annotated[SocialState, Depends(runtime_state(SocialState))]
Reader = Annotated[Principal, require_roles(*READ_ROLES)]
Writer = Annotated[Principal, require_roles(*WRITE_ROLES)]
Connector = Annotated[Principal, require_roles(*CONNECT_ROLES)]
