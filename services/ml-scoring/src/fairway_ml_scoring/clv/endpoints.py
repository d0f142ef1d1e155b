from typing import Annotated, Any

from fastapi import APIRouter, Query

from fairway_chassis import SessionDep, error_responses
from fairway_ml_scoring.clv.service import predict_clv
from fairway_ml_scoring.deps import Ml, Reader
from fairway_ml_scoring.documents import ClvPrediction

router = APIRouter(prefix="/api/v1/ml/clv", tags=["clv"])


@router.get("/predict", responses=error_responses(404), response_model=ClvPrediction, response_model_exclude_unset=True)
async def get_clv(
    principal: Reader,
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Query(min_length=1, max_length=400)],  # noqa: N803
) -> dict[str, Any]:
    """Predicted spend over the next 12 months (monthly breakdown) and historical CLV."""
    return await predict_clv(session, ctx, principal.tenant_id, customerId)
