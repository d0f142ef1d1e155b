from typing import Annotated, Any

from fastapi import APIRouter, Path

from fairway_chassis import SessionDep, error_responses
from fairway_ml_scoring.deps import Ml, Reader
from fairway_ml_scoring.documents import Engagement
from fairway_ml_scoring.engagement.service import engagement

router = APIRouter(prefix="/api/v1/ml", tags=["engagement"])


@router.get("/engagement/{customerId}", responses=error_responses(404), response_model=Engagement, response_model_exclude_unset=True)
async def get_engagement(
    principal: Reader,
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Path(min_length=1, max_length=400)],  # noqa: N803
) -> dict[str, Any]:
    """The engagement score (0-100) and its five components, per the implementation guide."""
    return await engagement(session, ctx, principal.tenant_id, customerId)
