from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from fairway_chassis import NotFound, Principal, SessionDep, require_roles
from fairway_ml_scoring.context import MlContext, ml
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.sto.service import send_time_profile

router = APIRouter(prefix="/api/v1/ml", tags=["send-time"])
Ml = Annotated[MlContext, Depends(ml)]


@router.get("/sto/{customerId}")
async def get_send_time_profile(
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Path(min_length=1, max_length=400)],  # noqa: N803
    principal: Principal = require_roles("staff", "marketer", "analyst", "service"),
) -> dict[str, Any]:
    """Hourly and daily open probabilities and the best send windows; a pooled prior below 0.3 confidence."""
    if not await FeatureLogRepository(session).known_subject(principal.tenant_id, customerId):
        raise NotFound(f"no customer {customerId!r} in this club")
    return await send_time_profile(session, ctx, principal.tenant_id, customerId)
