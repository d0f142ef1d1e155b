from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from fairway_chassis import Principal, SessionDep, require_roles
from fairway_ml_scoring.clv.service import predict_clv
from fairway_ml_scoring.context import MlContext, ml

router = APIRouter(prefix="/api/v1/ml/clv", tags=["clv"])
Ml = Annotated[MlContext, Depends(ml)]


@router.get("/predict")
async def get_clv(
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Query(min_length=1, max_length=400)],  # noqa: N803
    principal: Principal = require_roles("staff", "marketer", "analyst", "service"),
) -> dict[str, Any]:
    """Predicted spend over the next 12 months (monthly breakdown) and historical CLV."""
    return await predict_clv(session, ctx, principal.tenant_id, customerId)
