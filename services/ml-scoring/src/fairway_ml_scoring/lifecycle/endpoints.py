from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fairway_chassis import Forbidden, SessionDep, error_responses
from fairway_ml_scoring.deps import Ml, ModelAdmin, ModelViewer
from fairway_ml_scoring.documents import ModelList, ModelPerformance, PromotionResult
from fairway_ml_scoring.lifecycle import service

router = APIRouter(prefix="/api/v1/ml/models", tags=["models"])
ModelName = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


@router.get("", response_model=ModelList, response_model_exclude_unset=True)
async def list_models(
    principal: ModelViewer,
    ctx: Ml,
    modelType: Annotated[Literal["churn", "clv"] | None, Query()] = None,  # noqa: N803
) -> dict[str, Any]:
    """The club's registered models: versions, metrics, aliases, and which version is being served."""
    return {"items": await service.list_models(ctx, principal.tenant_id, modelType)}


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=20, pattern=r"^[0-9]+$")
    force: bool = False


@router.post("/{name}/promote", responses=error_responses(404, 409), response_model=PromotionResult, response_model_exclude_unset=True)
async def promote(
    principal: ModelAdmin,
    request: Request,
    session: SessionDep,
    ctx: Ml,
    name: ModelName,
    body: Promotion,
) -> dict[str, Any]:
    """Make a version the champion. A churn version must beat the current champion on a time-based holdout
    and clear the AUC floor; a former champion may always return (rollback); `force` is for admins."""
    if body.force and "admin" not in principal.roles:
        raise Forbidden("only an admin may force a promotion past the gate")
    sessions = request.app.state.runtime.sessionmaker
    return await service.promote(sessions, session, ctx, principal.tenant_id, name, body.version, body.force)


@router.get("/{name}/performance", responses=error_responses(404), response_model=ModelPerformance, response_model_exclude_unset=True)
async def performance(
    session: SessionDep, ctx: Ml, name: ModelName, principal: ModelViewer
) -> dict[str, Any]:
    """Training metrics per version, live accuracy on recorded outcomes, predictions served, feature drift."""
    return await service.performance(session, ctx, principal.tenant_id, name)
