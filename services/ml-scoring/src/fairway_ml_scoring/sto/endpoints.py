from typing import Annotated, Any

from fastapi import APIRouter, Path

from fairway_chassis import NotFound, SessionDep, error_responses
from fairway_ml_scoring.deps import Ml, Reader
from fairway_ml_scoring.documents import SendTimeProfile
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.sto.service import send_time_profile

router = APIRouter(prefix="/api/v1/ml", tags=["send-time"])


@router.get("/sto/{customerId}", responses=error_responses(404), response_model=SendTimeProfile, response_model_exclude_unset=True)
async def get_send_time_profile(
    principal: Reader,
    session: SessionDep,
    ctx: Ml,
    customerId: Annotated[str, Path(min_length=1, max_length=400)],  # noqa: N803
) -> dict[str, Any]:
    """Hourly and daily open probabilities and the best send windows; a pooled prior below 0.3 confidence."""
    if not await FeatureLogRepository.for_tenant(session, principal.tenant_id).known_subject(customerId):
        raise NotFound(f"no customer {customerId!r} in this club")
    return await send_time_profile(session, ctx, principal.tenant_id, customerId)
