"""The churn model lifecycle against a real MLflow registry (sqlite + file artifacts): training logged and
registered, gated promotion, hot reload when a data scientist moves the alias, rollback, champion/challenger
split, signature checks, drift, and models that never cross tenants."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import mlflow
import mlflow.onnx
import numpy as np
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select, text

from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.churn.service import _bucket, choose, tenant_baseline
from fairway_ml_scoring.db import ml_churn_predictions
from fairway_ml_scoring.drift.service import check_drift
from fairway_ml_scoring.lifecycle import service
from fairway_ml_scoring.results.repository import ScoreRepository
from fairway_ml_scoring.scoring.batch import score_all
from fairway_ml_scoring.synthetic import club_history
from fairway_testkit import auth_headers, run_service, wait_for

from .conftest import insert_events


def register_own_model(settings, features: list[str], seed: int = 0) -> str:
    """What a data scientist does: an sklearn model in ONNX, logged with a signature naming its features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, len(features))).astype(np.float32)
    y = (rng.random(200) < 0.5).astype(int)
    onx = to_onnx(LogisticRegression().fit(x, y), x[:1], options={"zipmap": False}, target_opset=15)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.registry_uri)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    exp = client.get_experiment_by_name("data-scientist")
    exp_id = (
        exp.experiment_id
        if exp
        else client.create_experiment(
            "data-scientist", artifact_location=f"{settings.artifact_root}/data-scientist"
        )
    )
    with mlflow.start_run(experiment_id=exp_id):
        info = mlflow.onnx.log_model(
            onx,
            name="model",
            signature=ModelSignature(Schema([ColSpec("float", f) for f in features])),
            registered_model_name="club-a.churn",
            pip_requirements=["onnxruntime"],
        )
    return str(info.registered_model_version)


async def outbox(svc, event_type: str) -> list[dict]:
    async with svc.runtime.sessionmaker() as s:
        rows = (
            await s.execute(
                text("SELECT tenant_id, body FROM event_outbox WHERE event_type = :t ORDER BY id"),
                {"t": event_type},
            )
        ).all()
    return [{"tenant": r.tenant_id, **json.loads(r.body)["payload"]} for r in rows]


async def predict(svc, tenant: str, member: str, refresh: bool = True) -> dict:
    r = await svc.http.get(
        "/api/v1/ml/churn/predict",
        params={"customerId": member, "refresh": refresh},
        headers=auth_headers(tenant, ["staff"]),
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_churn_model_lifecycle(ml_settings) -> None:
    settings = ml_settings(auc_floor=0.6, challenger_traffic=0.5)
    now = datetime.now(UTC)
    events, roster = club_history("club-a", members=160, start=now - timedelta(days=640), end=now, seed=4)
    small, _ = club_history(
        "club-b", members=12, start=now - timedelta(days=200), end=now, seed=5, id_prefix="B"
    )
    async with run_service(create_app(settings)) as svc:
        ctx = svc.runtime.state
        sessions = svc.runtime.sessionmaker
        async with sessions() as s, s.begin():
            await insert_events(s, events + small)

        # -- training: logged, registered as challenger, promoted (no champion yet, clears the floor) --------
        report = await service.train(sessions, ctx, "club-a", "churn", as_of=now)
        assert report["version"] == "1" and report["promoted"] and report["gate"]["passed"], report
        assert report["metrics"]["holdout_auc"] > 0.6 and report["trainingRows"] > 100
        client = MlflowClient(settings.tracking_uri, settings.registry_uri)
        champion = client.get_model_version_by_alias("club-a.churn", "champion")
        assert str(champion.version) == "1" and champion.tags["fairway.tenant"] == "club-a"
        assert str(client.get_model_version_by_alias("club-a.churn", "challenger").version) == "1"
        run = client.get_run(champion.run_id)
        assert {"holdout_auc", "holdout_precision", "holdout_recall", "holdout_brier", "holdout_ece"} <= set(
            run.data.metrics
        )
        assert (
            run.data.params["label"] == "inactivity"
            and "days_since_last_activity" in run.data.params["features"]
        )
        artifacts = {a.path for a in client.list_artifacts(champion.run_id)}
        assert {"calibration.json", "features.json", "model"} <= artifacts
        assert [e["version"] for e in await outbox(svc, "ml.model.training_completed")] == ["1"]
        deployed = sorted((e["alias"], e["version"]) for e in await outbox(svc, "ml.model.deployed"))
        assert deployed == [("challenger", "1"), ("champion", "1")]

        # -- serving the champion with ONNX Runtime, explained -----------------------------------------------
        gone = next(m for m in roster if m.churn_at and (now - m.churn_at).days > 60)
        member = f"teetimePlayerId:{gone.player_id}"
        pred = await predict(svc, "club-a", member)
        assert (
            pred["modelVersion"] == "churn-v1"
            and pred["model"]["source"] == "MODEL"
            and pred["fallback"] is None
        )
        assert pred["riskLevel"] in ("HIGH", "CRITICAL") and pred["daysUntilChurn"] is not None
        top = pred["topFactors"][0]
        assert top["direction"] == "increases_risk" and top["description"] and 0 < top["impact"] <= 1
        assert any(
            f["factor"] == "recency" and "days since the last booking" in f["description"]
            for f in pred["topFactors"]
        )
        assert pred["recommendedActions"]

        # -- gating: a weak model of a data scientist does not become champion --------------------------------
        weak = register_own_model(settings, ["handicap", "tenure_days"])
        client.set_registered_model_alias("club-a.churn", "challenger", weak)
        r = await svc.http.post(
            "/api/v1/ml/models/churn/promote",
            json={"version": weak},
            headers=auth_headers("club-a", ["analyst"]),
        )
        assert r.status_code == 409, r.text
        gate = r.json()["detail"]["gate"]
        assert not gate["passed"] and gate["championAuc"] > gate["challengerAuc"]
        assert any("below the floor" in x or "does not beat" in x for x in gate["reasons"])
        assert str(client.get_model_version_by_alias("club-a.churn", "champion").version) == "1"
        r = await svc.http.post(
            "/api/v1/ml/models/churn/promote",
            json={"version": weak, "force": True},
            headers=auth_headers("club-a", ["analyst"]),
        )
        assert r.status_code == 403  # forcing past the gate is for admins

        # -- champion/challenger split: each prediction records the version that made it -----------------------
        await wait_for(lambda: _served(ctx, "challenger", weak), what="challenger loaded")
        members = [f"teetimePlayerId:{m.player_id}" for m in roster[:24]]
        variants = {}
        for m in members:
            p = await predict(svc, "club-a", m)
            variants[m] = (p["model"]["variant"], p["modelVersion"])
            expected = "challenger" if _bucket("club-a", m) < 0.5 else "champion"
            assert p["model"]["variant"] == expected
        assert {v for v in variants.values()} == {("champion", "churn-v1"), ("challenger", f"churn-v{weak}")}
        async with sessions() as s:
            stored = (
                await s.execute(
                    select(ml_churn_predictions.c.variant, ml_churn_predictions.c.model_version).where(
                        ml_churn_predictions.c.subject_id.in_(members)
                    )
                )
            ).all()
        assert {(r.variant, r.model_version) for r in stored} == set(variants.values())

        # -- concurrent predictions: one micro-batch across clubs and models answers as one at a time -----------
        b_member = "teetimePlayerId:B00001"
        assert (await predict(svc, "club-b", b_member))["model"]["source"] == "RULES"
        await ctx.drain()  # the requests above pushed these members' features to the online store
        async with sessions() as s:
            baselines = {t: await tenant_baseline(s, ctx, t) for t in ("club-a", "club-b")}
        wanted = [("club-a", m) for m in members[:8]] + [("club-b", b_member)]
        at = ctx.now()

        def ask(tenant: str, m: str):
            return ctx.churn_online.predict(tenant, m, choose(ctx, tenant, m), baselines[tenant], at)

        batches = ctx.churn_online.batches
        together = await asyncio.gather(*(ask(t, m) for t, m in wanted))
        assert ctx.churn_online.batches == batches + 1  # one read per club, one model run per model
        assert {d["model"]["variant"] for d, _ in together} == {"champion", "challenger", "rules"}
        for (t, m), (doc, row) in zip(wanted, together, strict=True):
            alone, _ = await ask(t, m)
            assert {**doc, "predictionId": None} == {**alone, "predictionId": None}
            assert row["tenant_id"] == t and row["subject_id"] == m and row["id"] == doc["predictionId"]

        # -- stored predictions are group-committed: a returned predictionId exists at once ---------------------
        answers = await asyncio.gather(*(predict(svc, "club-a", m) for m in members[:8]))
        ids = {a["predictionId"] for a in answers}
        assert len(ids) == 8 and await _stored(sessions, ids) == 8
        # Concurrent repeats read those stored predictions back in one query, each its own club's and member's.
        b_last = await predict(svc, "club-b", b_member)
        again = await asyncio.gather(
            *(predict(svc, "club-a", m, refresh=False) for m in members[:8]),
            predict(svc, "club-b", b_member, refresh=False),
        )
        assert [a["predictionId"] for a in again] == [a["predictionId"] for a in answers] + [
            b_last["predictionId"]
        ]
        # ...and rows queued when the service stops are written before it does.
        rows = [row | {"id": str(uuid.uuid4())} for _, row in together]
        queued = [asyncio.ensure_future(ctx.prediction_writer.add(r)) for r in rows]
        await asyncio.sleep(0)
        await ctx.prediction_writer.close()
        assert all(q.done() for q in queued) and await _stored(sessions, {r["id"] for r in rows}) == len(rows)

        # -- hot reload: the data scientist moves the champion alias in MLflow; the service follows -----------
        champion_side = next(m for m in members if _bucket("club-a", m) >= 0.5)
        client.set_registered_model_alias("club-a.churn", "champion", weak)
        await wait_for(lambda: _version_of(svc, champion_side, f"churn-v{weak}"), timeout=15, what="reload")
        deployed = await wait_for(lambda: _deployed(svc, weak), what="deployed event")
        assert deployed["previousVersion"] == "1"

        # -- rollback: a former champion returns through the API without the gate ----------------------------
        r = await svc.http.post(
            "/api/v1/ml/models/churn/promote",
            json={"version": "1"},
            headers=auth_headers("club-a", ["analyst"]),
        )
        assert r.status_code == 200 and r.json()["reason"] == "rollback to a former champion", r.text
        assert (await predict(svc, "club-a", champion_side))["modelVersion"] == "churn-v1"

        # -- a version whose signature names unknown features is not served -----------------------------------
        odd = register_own_model(settings, ["handicap", "shoe_size"])
        client.set_registered_model_alias("club-a.churn", "champion", odd)
        models = await wait_for(lambda: _load_error(svc), timeout=15, what="load error reported")
        assert "shoe_size" in models["loadErrors"]["champion"] and models["served"]["champion"] == "1"
        assert (await predict(svc, "club-a", champion_side))["modelVersion"] == "churn-v1"
        client.set_registered_model_alias("club-a.churn", "champion", "1")

        # -- models never cross tenants ------------------------------------------------------------------------
        b_pred = await predict(svc, "club-b", b_member)
        assert b_pred["model"]["source"] == "RULES" and b_pred["modelVersion"] == "rules-v1"
        listing = await svc.http.get(
            "/api/v1/ml/models", params={"modelType": "churn"}, headers=auth_headers("club-b", ["analyst"])
        )
        assert (
            listing.json()["items"][0]["versions"] == []
            and listing.json()["items"][0]["registeredName"] == "club-b.churn"
        )
        r = await svc.http.post(
            "/api/v1/ml/models/churn/promote",
            json={"version": "1"},
            headers=auth_headers("club-b", ["analyst"]),
        )
        assert r.status_code == 404
        # Even a club-a version copied under club-b's name is refused by its tenant tag.
        client.create_registered_model("club-b.churn")
        client.create_model_version(
            "club-b.churn", source=champion.source, run_id=champion.run_id, tags={"fairway.tenant": "club-a"}
        )
        client.set_registered_model_alias("club-b.churn", "champion", "1")
        await wait_for(lambda: _b_rejected(svc), timeout=15, what="club-b rejects club-a's version")
        assert (await predict(svc, "club-b", b_member))["model"]["source"] == "RULES"

        # -- monitoring: performance and drift -------------------------------------------------------------------
        pid = pred["predictionId"]
        r = await svc.http.post(
            f"/api/v1/ml/churn/{pid}/actual-churn",
            json={"churned": True},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert r.json()["actualOutcome"]["wasAccurate"] is True
        perf = (
            await svc.http.get(
                "/api/v1/ml/models/churn/performance", headers=auth_headers("club-a", ["analyst"])
            )
        ).json()
        assert perf["champion"] == "1" and perf["live"]["churn-v1"]["n"] == 1
        assert any(p["modelVersion"] == f"churn-v{weak}" for p in perf["predictionsLast30Days"])
        batch = await score_all(sessions, ctx, "club-a")
        assert batch.members == 160 and batch.announced > 0  # profiles only, and each is announced on crm.scoring
        async with sessions() as s, s.begin():
            rows = await ScoreRepository.for_tenant(s, "club-a").recent_features(now - timedelta(days=1))
            assert len(rows) == 160
            shifted = [{**r, "days_since_last_activity": r["days_since_last_activity"] + 200} for r in rows]
            await ScoreRepository.for_tenant(s, "club-a").upsert(
                [
                    {
                        "tenant_id": "club-a",
                        "subject_id": f"shifted-{i}",
                        "engagement_score": 0.0,
                        "churn_probability": 0.5,
                        "risk_level": "MEDIUM",
                        "predicted_clv": None,
                        "model_version": "churn-v1",
                        "features": f,
                        "scored_at": datetime.now(UTC),
                    }
                    for i, f in enumerate(shifted * 3)
                ]
            )
            report = await check_drift(s, ctx, "club-a")
        drifted = {r["feature"] for r in report if r["drifted"]}
        assert "days_since_last_activity" in drifted
        alerts = await outbox(svc, "ml.feature.drift_detected")
        assert (
            "days_since_last_activity" in {a["feature"] for a in alerts} and alerts[0]["statistic"] == "PSI"
        )
        async with sessions() as s, s.begin():
            assert await check_drift(s, ctx, "club-a")  # still drifted...
        assert len(await outbox(svc, "ml.feature.drift_detected")) == len(
            alerts
        )  # ...but announced once a day


async def _stored(sessions, ids: set[str]) -> int:
    async with sessions() as s:
        q = select(ml_churn_predictions.c.id).where(ml_churn_predictions.c.id.in_(list(ids)))
        return len((await s.execute(q)).all())


async def _served(ctx, alias: str, version: str) -> bool:
    await asyncio.to_thread(ctx.churn_models.refresh, "club-a")
    m = ctx.churn_models.get("club-a", alias)
    return m is not None and m.version == version


async def _version_of(svc, member: str, version: str) -> bool:
    return (await predict(svc, "club-a", member))["modelVersion"] == version


async def _deployed(svc, version: str) -> dict | None:
    return next(
        (
            e
            for e in await outbox(svc, "ml.model.deployed")
            if e["version"] == version and e["alias"] == "champion"
        ),
        None,
    )


async def _load_error(svc) -> dict | None:
    r = await svc.http.get(
        "/api/v1/ml/models", params={"modelType": "churn"}, headers=auth_headers("club-a", ["analyst"])
    )
    item = r.json()["items"][0]
    return item if item["loadErrors"].get("champion") else None


async def _b_rejected(svc) -> bool:
    r = await svc.http.get(
        "/api/v1/ml/models", params={"modelType": "churn"}, headers=auth_headers("club-b", ["analyst"])
    )
    return "belongs to tenant 'club-a'" in r.json()["items"][0]["loadErrors"].get("champion", "")
