"""SQL of current scores (ml_scores), stored churn predictions and raised alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, and_, bindparam, delete, exists, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fairway_chassis import RepositoryBase
from fairway_ml_scoring.db import ml_alerts, ml_churn_predictions, ml_events, ml_scores


class ScoreRepository(RepositoryBase):
    """Current scores of one tenant's members."""

    async def get_many(self, subjects: Sequence[str]) -> dict[str, Any]:
        if not subjects:
            return {}
        rows = await self.session.execute(
            select(ml_scores).where(
                self.owns(ml_scores), ml_scores.c.subject_id.in_(list(subjects))
            )
        )
        return {r.subject_id: r for r in rows}

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = insert(ml_scores).values([self.row(**r) for r in rows])
        cols = (
            "engagement_score",
            "churn_probability",
            "risk_level",
            "predicted_clv",
            "model_version",
            "features",
            "scored_at",
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "subject_id"], set_={c: stmt.excluded[c] for c in cols}
            )
        )

    async def delete(self, subjects: Sequence[str]) -> None:
        if subjects:
            await self.session.execute(
                delete(ml_scores).where(
                    self.owns(ml_scores), ml_scores.c.subject_id.in_(list(subjects))
                )
            )

    async def recent_features(
        self, since: datetime, limit: int = 50_000
    ) -> list[dict[str, float]]:
        rows = await self.session.execute(
            select(ml_scores.c.features)
            .where(self.owns(ml_scores), ml_scores.c.scored_at >= since)
            .limit(limit)
        )
        return [r.features for r in rows]

    async def at_risk(self, levels: Sequence[str], limit: int) -> list[Any]:
        """Current scores at the given risk levels, riskiest first, with the latest stored prediction if any."""
        latest = (
            select(
                ml_churn_predictions.c.subject_id, func.max(ml_churn_predictions.c.predicted_at).label("at")
            )
            .where(self.owns(ml_churn_predictions))
            .group_by(ml_churn_predictions.c.subject_id)
            .subquery()
        )
        pred = ml_churn_predictions
        q = (
            select(
                ml_scores,
                pred.c.id.label("prediction_id"),
                pred.c.days_until_churn,
                pred.c.predicted_churn_date,
                pred.c.top_factors,
                pred.c.valid_until,
            )
            .select_from(
                ml_scores.outerjoin(latest, latest.c.subject_id == ml_scores.c.subject_id).outerjoin(
                    pred,
                    and_(
                        self.owns(pred),
                        pred.c.subject_id == latest.c.subject_id,
                        pred.c.predicted_at == latest.c.at,
                    ),
                )
            )
            .where(self.owns(ml_scores), ml_scores.c.risk_level.in_(list(levels)))
            .order_by(ml_scores.c.churn_probability.desc(), ml_scores.c.subject_id)
            .limit(limit)
        )
        return list(await self.session.execute(q))


_P = ml_churn_predictions
# What a prediction document needs (not the stored feature vector, only its engagement score).
_DOCUMENT_COLUMNS = (
    *(c for c in _P.c if c.name != "features"),
    _P.c.features["engagement_score"].astext.cast(Float).label("engagement_score"),
)
# Built once: the serving path runs it for every batch of requests, and a prebuilt statement skips
# SQLAlchemy's statement construction and cache-key work. Latest prediction per (tenant, member) asked for.
_LATEST_VALID = (
    select(
        *_DOCUMENT_COLUMNS,
        exists()
        .where(
            ml_events.c.tenant_id == _P.c.tenant_id,
            ml_events.c.subject_id == _P.c.subject_id,
            ml_events.c.received_at > _P.c.predicted_at,
        )
        .label("changed_since"),
    )
    .where(
        tuple_(_P.c.tenant_id, _P.c.subject_id).in_(bindparam("keys", expanding=True)),
        _P.c.valid_until > bindparam("now", type_=_P.c.valid_until.type),
    )
    .ext(distinct_on(_P.c.tenant_id, _P.c.subject_id))
    .order_by(_P.c.tenant_id, _P.c.subject_id, _P.c.predicted_at.desc())
)


class PredictionBatch:
    """The serving path's prediction SQL: a coalesced batch holds many tenants' requests, so rows carry their
    tenant and reads match each (tenant, member) pair."""

    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        self.session = session

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """One statement for many rows (asyncpg executemany / insertmanyvalues)."""
        if rows:
            await self.session.execute(insert(ml_churn_predictions), rows)

    async def latest_valid_many(self, keys: list[tuple[str, str]], now: datetime) -> list[Any]:
        """The latest prediction still valid at `now` of each (tenant, member), with `changed_since`: whether
        an event about the member arrived (or moved to them) after it was made. One round trip."""
        return list(
            await self.session.execute(_LATEST_VALID, {"keys": list(dict.fromkeys(keys)), "now": now})
        )


class PredictionRepository(RepositoryBase):
    """Stored churn predictions of one tenant."""

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        await PredictionBatch(self.session).add_many([self.row(**r) for r in rows])

    async def get(self, prediction_id: str) -> Any:
        return (
            await self.session.execute(
                select(*_DOCUMENT_COLUMNS).where(self.owns(_P), _P.c.id == prediction_id)
            )
        ).first()

    async def latest_valid(self, subject: str, now: datetime) -> Any:
        rows = await PredictionBatch(self.session).latest_valid_many([(self.tenant_id, subject)], now)
        return rows[0] if rows else None

    async def record_outcome(
        self,
        prediction_id: str,
        churned: bool,
        churn_date: date | None,
        was_accurate: bool,
        now: datetime,
    ) -> None:
        await self.session.execute(
            update(ml_churn_predictions)
            .where(self.owns(ml_churn_predictions), ml_churn_predictions.c.id == prediction_id)
            .values(
                actual_churned=churned,
                actual_churn_date=churn_date,
                was_accurate=was_accurate,
                outcome_recorded_at=now,
            )
        )

    async def outcomes(self, model_name: str) -> list[Any]:
        """Predictions with a recorded outcome, per model version: what live accuracy is measured on."""
        return list(
            await self.session.execute(
                select(
                    ml_churn_predictions.c.model_version,
                    ml_churn_predictions.c.churn_probability,
                    ml_churn_predictions.c.actual_churned,
                    ml_churn_predictions.c.variant,
                ).where(
                    self.owns(ml_churn_predictions),
                    ml_churn_predictions.c.model_name == model_name,
                    ml_churn_predictions.c.actual_churned.is_not(None),
                )
            )
        )

    async def counts_by_version(self, model_name: str, since: datetime) -> list[Any]:
        return list(
            await self.session.execute(
                select(
                    ml_churn_predictions.c.model_version,
                    ml_churn_predictions.c.variant,
                    func.count().label("n"),
                    func.avg(ml_churn_predictions.c.churn_probability).label("mean_probability"),
                )
                .where(
                    self.owns(ml_churn_predictions),
                    ml_churn_predictions.c.model_name == model_name,
                    ml_churn_predictions.c.predicted_at >= since,
                )
                .group_by(ml_churn_predictions.c.model_version, ml_churn_predictions.c.variant)
            )
        )


class AlertRepository(RepositoryBase):
    """Alerts raised for one tenant."""

    async def raise_once(
        self, kind: str, subject: str, value: float, now: datetime, every_seconds: float
    ) -> bool:
        """True if this alert should be announced now (not raised for this subject within the period)."""
        row = (
            await self.session.execute(
                select(ml_alerts.c.raised_at)
                .where(
                    self.owns(ml_alerts),
                    ml_alerts.c.kind == kind,
                    ml_alerts.c.subject == subject,
                )
                .with_for_update()
            )
        ).first()
        if row is not None and (now - row.raised_at).total_seconds() < every_seconds:
            return False
        stmt = insert(ml_alerts).values(
            tenant_id=self.tenant_id, kind=kind, subject=subject, value=value, raised_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "kind", "subject"], set_={"value": value, "raised_at": now}
            )
        )
        return True
