"""Fixtures of the ml-scoring tests: settings on this test's database, topics and run folder, with MLflow on
a local sqlite backend and a file artifact store under tmp_path (no tracking server)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ml_scoring.db import ml_profiles
from fairway_ml_scoring.features.events import LogEvent
from fairway_ml_scoring.features.keys import provisional_subject
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository, FeatureLogRepository
from fairway_ml_scoring.settings import Settings


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised MLflow sqlite database, copied per test: creating its schema takes seconds."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{path}", registry_uri=f"sqlite:///{path}")
    client.search_experiments()
    client.search_registered_models()
    return path


@pytest.fixture
def ml_settings(
    settings_for: Callable[..., Any], tmp_path: Path, mlflow_template: Path
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        db = tmp_path / "mlflow.db"
        if not db.exists():
            shutil.copy(mlflow_template, db)
        values: dict[str, Any] = {
            "run_dir": tmp_path / "run",
            "mlflow_tracking_uri": f"sqlite:///{db}",
            "mlflow_artifact_root": (tmp_path / "artifacts").as_uri(),
            "feast_pg_sslmode": "disable",
            "model_poll_seconds": 0.5,
            "materialize_interval_seconds": 3600,
            "drift_interval_seconds": 3600,
            "churn_training_snapshots": 4,
            "min_training_rows": 30,
        }
        values.update(overrides)
        return settings_for(Settings, **values)

    return make


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def subject_of(ev: LogEvent) -> str:
    return provisional_subject(ev.tenant_id, ev.keys[0])


async def insert_events(session: AsyncSession, events: Iterable[LogEvent], *, announced: bool = True) -> None:
    """Write events straight into the feature log (what the consumer does, without the broker). With
    `announced`, identity is taken to have announced every person already, as a profile whose id is the
    person's strongest key (`teetimePlayerId:M00001`): only profiles are customers, and these tests are about
    models, not resolution. Without it, events wait for identity (parked) as unresolved upstream events do."""
    events = list(events)
    rows = [
        {
            "tenant_id": e.tenant_id,
            "event_id": e.event_id,
            "subject_id": e.profile_id or subject_of(e),
            "resolved": announced or e.profile_id is not None,
            "keys": e.keys,
            "kind": e.kind,
            "occurred_at": e.occurred_at,
            "amount": e.amount,
            "quantity": e.quantity,
            "attrs": e.attrs,
        }
        for e in events
    ]
    batch = FeatureLogBatchRepository(session)
    for i in range(0, len(rows), 2000):
        await batch.append(rows[i : i + 2000])
    if announced:
        profiles = await session.execute(select(ml_profiles.c.tenant_id, ml_profiles.c.profile_id))
        known = set(profiles.all())
        for tenant, subject in sorted({(r["tenant_id"], r["subject_id"]) for r in rows} - known):
            await FeatureLogRepository.for_tenant(session, tenant).upsert_profile(subject, "ACTIVE")
