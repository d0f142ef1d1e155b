"""Repositories built for one tenant cannot read or change another tenant's scores, predictions, alerts or feature log, even
when handed their ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fairway_chassis.db import migrate
from fairway_ml_scoring.app import MIGRATIONS
from fairway_ml_scoring.db import ml_churn_predictions, ml_scores
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository, FeatureLogRepository
from fairway_ml_scoring.results.repository import AlertRepository, PredictionRepository, ScoreRepository

T = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
FAIRWAY, STONEHAVEN = "fairwaygolf", "stonehaven"


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await migrate(MIGRATIONS, database_url)
    engine = create_async_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


def score(subject: str, probability: float) -> dict:
    return {
        "subject_id": subject, "engagement_score": 40.0, "churn_probability": probability, "risk_level": "HIGH",
        "predicted_clv": None, "model_version": "churn-v1", "features": {"rounds_90d": 2.0}, "scored_at": T,
    }


def prediction(subject: str) -> dict:
    return {
        "id": str(uuid.uuid4()), "subject_id": subject, "churn_probability": 0.8, "risk_level": "HIGH",
        "days_until_churn": 30, "predicted_churn_date": None, "horizon_days": 90, "top_factors": [],
        "recommended_actions": [], "model_name": "churn", "model_version": "churn-v1", "variant": "champion",
        "source": "MODEL", "fallback_reason": None, "features": {"engagement_score": 40.0}, "predicted_at": T,
        "valid_until": T + timedelta(days=7),
    }


async def test_a_tenants_repositories_neither_read_nor_change_another_tenants_rows(session: AsyncSession) -> None:
    await ScoreRepository.for_tenant(session, STONEHAVEN).upsert([score("p1", 0.8)])
    theirs = prediction("p1")
    await PredictionRepository.for_tenant(session, STONEHAVEN).add_many([theirs])
    scores = ScoreRepository.for_tenant(session, FAIRWAY)
    preds = PredictionRepository.for_tenant(session, FAIRWAY)

    assert await scores.get_many(["p1"]) == {}
    assert await scores.recent_features(T - timedelta(days=1)) == []
    assert await scores.at_risk(["HIGH"], 10) == []
    assert await preds.get(theirs["id"]) is None
    assert await preds.latest_valid("p1", T) is None
    assert await preds.outcomes("churn") == [] and await preds.counts_by_version("churn", T - timedelta(days=1)) == []
    await preds.record_outcome(theirs["id"], True, None, True, T)
    await scores.delete(["p1"])
    # Rows written through our repository are ours, whatever tenant they name.
    await scores.upsert([{**score("p1", 0.1), "tenant_id": STONEHAVEN}])

    their_scores = await ScoreRepository.for_tenant(session, STONEHAVEN).get_many(["p1"])
    assert their_scores["p1"].churn_probability == 0.8
    assert (await PredictionRepository.for_tenant(session, STONEHAVEN).get(theirs["id"])).actual_churned is None
    assert (await session.execute(select(func.count()).select_from(ml_scores))).scalar() == 2
    assert (await session.execute(select(func.count()).select_from(ml_churn_predictions))).scalar() == 1
    # An alert raised for them does not silence ours.
    assert await AlertRepository.for_tenant(session, STONEHAVEN).raise_once("feature_drift", "x", 0.4, T, 86400)
    assert await AlertRepository.for_tenant(session, FAIRWAY).raise_once("feature_drift", "x", 0.4, T, 86400)


def _event(tenant: str, event_id: str, subject: str, key: str) -> dict:
    return {"tenant_id": tenant, "event_id": event_id, "subject_id": subject, "resolved": False, "keys": [key],
            "kind": "email_opened", "occurred_at": T - timedelta(days=1), "amount": None, "quantity": None,
            "attrs": {}}


async def test_a_tenants_feature_log_neither_reads_nor_changes_another_tenants(session: AsyncSession) -> None:
    key = "email#hamish@stonehavengolf.co.uk"
    await FeatureLogBatchRepository(session).append([_event(STONEHAVEN, "e-1", key, key)])
    theirs = FeatureLogRepository.for_tenant(session, STONEHAVEN)
    await theirs.upsert_profile("p1", "ACTIVE", segment="Senior")
    mine = FeatureLogRepository.for_tenant(session, FAIRWAY)

    assert await mine.link("p-mine", [key]) == set()  # their parked event stays theirs
    assert await mine.resolve([key]) == {key: "p-mine"}
    assert await mine.known_subject("p1") is False and await mine.subjects() == []
    assert await mine.open_times(T - timedelta(days=30)) == [] and len((await mine.load()).subjects) == 0
    await mine.erase("p1")

    assert await theirs.known_subject("p1") and await theirs.segment_of("p1") == "Senior"
    assert await theirs.resolve([key]) == {}
    assert await theirs.link("p1", [key]) == {key}  # their event moves from the key's subject to their profile
    assert list((await theirs.load()).subjects) == ["p1"]
    assert len(await FeatureLogBatchRepository(session).open_times_everywhere(T - timedelta(days=30))) == 1
