from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from fairway_chassis import Principal, SessionDep, require_roles
from fairway_ml_scoring.context import MlContext, ml
from fairway_ml_scoring.engagement.service import engagement

router = APIRouter(prefix="/api/v1/ml", tags=["engagement"])
Ml = Annotated[MlContext, Depends(ml)]
READERS = ("staff", "marketer", "analyst", "service")


@router.get("/engagement/{customerId}")
async def get_engagement(
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Path(min_length=1, max_length=400)],  # noqa: N803
    principal: Principal = require_roles(*READERS),
) -> dict[str, Any]:
    """The engagement score (0-100) and its five components, per the implementation guide."""
    return await engagement(session, ctx, principal.tenant_id, customerId)
