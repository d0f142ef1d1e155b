from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from fairway_chassis import SessionDep, error_responses
from fairway_ml_scoring.churn.risk import days_until_churn
from fairway_ml_scoring.churn.service import predict, record_actual
from fairway_ml_scoring.deps import Ml, OutcomeRecorder, Reader
from fairway_ml_scoring.documents import AtRiskPage, ChurnPrediction
from fairway_ml_scoring.results.repository import ScoreRepository

router = APIRouter(prefix="/api/v1/ml/churn", tags=["churn"])
RiskLevel = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]


@router.get("/predict", responses=error_responses(404), response_class=JSONResponse, response_model=ChurnPrediction, response_model_exclude_unset=True)
async def get_prediction(
    principal: Reader,
    ctx: Ml,
    customerId: Annotated[str, Query(min_length=1, max_length=400)],  # noqa: N803
    refresh: bool = False,
) -> JSONResponse:
    """Churn probability, risk level, days until churn, top factors, recommended actions and model version.
    Served by the club's champion model, or a rule-based estimate (marked `fallback`) without one."""
    # No request-wide session: the usual answer needs one read or none; predict opens a unit of work only
    # for the rare paths that need one.
    doc = await predict(ctx, principal.tenant_id, customerId, refresh=refresh)
    # The document holds JSON types only: serialised as is, without FastAPI's generic encoder (the hot path).
    return JSONResponse(doc)


@router.get("/at-risk", response_model=AtRiskPage, response_model_exclude_unset=True)
async def at_risk(
    principal: Reader,
    session: SessionDep,
    ctx: Ml,
    riskLevel: Annotated[list[RiskLevel] | None, Query()] = None,  # noqa: N803
    daysUntilChurn: Annotated[int | None, Query(ge=1, le=730)] = None,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Members by current churn risk (riskiest first), from the latest scores."""
    levels = riskLevel or ["HIGH", "CRITICAL"]
    rows = await ScoreRepository.for_tenant(session, principal.tenant_id).at_risk(
        levels, limit if daysUntilChurn is None else 1000
    )
    horizon = ctx.settings.churn_horizon_days
    out = []
    for r in rows:
        days = (
            r.days_until_churn
            if r.prediction_id is not None
            else days_until_churn(r.churn_probability, horizon)
        )
        if daysUntilChurn is not None and (days is None or days > daysUntilChurn):
            continue
        out.append(
            {
                "customerId": r.subject_id,
                "churnProbability": round(r.churn_probability, 4),
                "riskLevel": r.risk_level,
                "daysUntilChurn": days,
                "engagementScore": round(r.engagement_score),
                "predictedClv": r.predicted_clv,
                "modelVersion": r.model_version,
                "scoredAt": r.scored_at.isoformat(),
                "predictionId": str(r.prediction_id) if r.prediction_id else None,
                "topFactors": r.top_factors or [],
            }
        )
        if len(out) >= limit:
            break
    return {"items": out, "count": len(out), "riskLevels": levels, "daysUntilChurn": daysUntilChurn}


class ActualChurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    churned: bool
    churnDate: date | None = None


@router.post("/{predictionId}/actual-churn", responses=error_responses(404, 409), response_model=ChurnPrediction, response_model_exclude_unset=True)
async def actual_churn(
    principal: OutcomeRecorder,
    session: SessionDep,
    ctx: Ml,
    predictionId: UUID,
    body: ActualChurn,  # noqa: N803
) -> dict[str, Any]:
    """Record what really happened, so the model's live accuracy can be tracked."""
    return await record_actual(
        session, ctx, principal.tenant_id, str(predictionId), body.churned, body.churnDate
    )
