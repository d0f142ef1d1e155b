"""What the service's endpoints depend on: the gateway (its typed state) and the role sets of each API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_chassis import Principal, require_roles, runtime_state

GatewayDep = Annotated[Gateway, Depends(runtime_state(Gateway))]

Admin = Annotated[Principal, require_roles("admin")]
ConfigReader = Annotated[Principal, require_roles("admin", "marketer", "analyst")]
Tester = Annotated[Principal, require_roles("admin", "marketer")]
Explainer = Annotated[Principal, require_roles("admin", "marketer", "staff", "analyst")]
