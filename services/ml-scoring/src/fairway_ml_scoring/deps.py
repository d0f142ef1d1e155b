"""What the service's endpoints depend on: its state and the role sets allowed to call them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fairway_chassis import Principal, require_roles, runtime_state
from fairway_ml_scoring.context import MlContext

Ml = Annotated[MlContext, Depends(runtime_state(MlContext))]

# Scores are read by staff and marketers in the CRM, by analysts, and by other services.
Reader = Annotated[Principal, require_roles("staff", "marketer", "analyst", "service")]
OutcomeRecorder = Annotated[Principal, require_roles("staff", "analyst", "service")]
ModelViewer = Annotated[Principal, require_roles("analyst", "marketer")]
ModelAdmin = Annotated[Principal, require_roles("analyst")]
