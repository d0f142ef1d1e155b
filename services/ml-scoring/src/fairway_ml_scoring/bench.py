"""ml-scoring benchmarks (`python -m fairway_ml_scoring.bench`): print figures, never assert.

1. feature read alone: Feast online store (sqlite) get_online_features for one member, 50,000 members stored.
2. online churn prediction including the feature read, paced at 1,000 requests/s (open loop: latency counts
   from the scheduled start, so queueing shows): online read + model features + ONNX champion + top factors.
3. the same through the HTTP endpoint (GET /api/v1/ml/churn/predict, in-process ASGI, with its PostgreSQL
   reads and the stored prediction), paced at 1,000 requests/s: achieved rate and latency.
4. batch scoring of 1,000,000 synthetic profiles: raw rows -> model features (engagement included) -> ONNX
   churn probabilities -> risk levels.
5. score-all through the real pipeline (event log in PostgreSQL -> features -> scores -> upserts -> online
   push) for the bench club, as members/s.

The churn model is trained by the real pipeline (Feast historical retrieval, LightGBM, ONNX, MLflow on a
local sqlite backend) on a synthetic club of 400 members.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from fairway_cli.benchkit import bench_env, percentile, report

ONLINE_MEMBERS = 50_000
PACED_SECONDS = 5.0
HTTP_SECONDS = 3.0
RATE = 1000.0
BATCH_PROFILES = 1_000_000


def _paced(fn, rate: float, seconds: float) -> tuple[list[float], float]:
    """Call fn at `rate` per second for `seconds`; latencies from each call's scheduled time."""
    n = int(rate * seconds)
    lat = []
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        fn(i)
        lat.append(time.perf_counter() - due)
    return lat, n / (time.perf_counter() - start)


async def main() -> None:
    from fairway_ml_scoring.app import create_app
    from fairway_ml_scoring.churn.explain import model_factors, recommended_actions
    from fairway_ml_scoring.churn.risk import days_until_churn, risk_levels
    from fairway_ml_scoring.features.engine import RAW_FIELDS
    from fairway_ml_scoring.features.transform import as_row, feature_matrix
    from fairway_ml_scoring.models import service
    from fairway_ml_scoring.scoring.batch import score_all
    from fairway_ml_scoring.settings import Settings
    from fairway_ml_scoring.synthetic import club_history
    from fairway_testkit import TEST_JWT_SECRET, auth_headers, run_service

    tmp = Path(tempfile.mkdtemp(prefix="fairway-ml-bench-"))
    try:
        async with bench_env() as env:
            db_url = await env.fresh_database("ml")
            settings = Settings(
                database_url=db_url,
                database_name=db_url.rsplit("/", 1)[1],
                kafka_bootstrap=env.bootstrap,
                topic_prefix="bench-ml.",
                jwt_secret=TEST_JWT_SECRET,
                run_dir=tmp / "run",
                mlflow_tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
                mlflow_artifact_root=(tmp / "art").as_uri(),
                feast_pg_sslmode="disable",
                log_json=False,
                log_level="WARNING",
                churn_training_snapshots=4,
                materialize_interval_seconds=86400,
                drift_interval_seconds=86400,
                model_poll_seconds=3600,
            )
            app = create_app(settings)
            async with run_service(app) as svc:
                ctx = svc.runtime.extras["ml"]
                sessions = svc.runtime.sessionmaker
                now = datetime.now(UTC)
                events, roster = club_history(
                    "bench", members=400, start=now - timedelta(days=640), end=now, seed=9
                )
                from fairway_ml_scoring.features.repository import FeatureLogRepository

                rows = [
                    {
                        "tenant_id": e.tenant_id,
                        "event_id": e.event_id,
                        "subject_id": e.keys[0],
                        "resolved": False,
                        "keys": e.keys,
                        "kind": e.kind,
                        "occurred_at": e.occurred_at,
                        "amount": e.amount,
                        "quantity": e.quantity,
                        "attrs": e.attrs,
                    }
                    for e in events
                ]
                async with sessions() as s, s.begin():
                    repo = FeatureLogRepository(s)
                    for i in range(0, len(rows), 5000):
                        await repo.append(rows[i : i + 5000])
                t = time.perf_counter()
                trained = await service.train(sessions, ctx, "bench", "churn", as_of=now)
                report(
                    "churn training (400 members, Feast retrieval + LightGBM + ONNX + MLflow)",
                    time.perf_counter() - t,
                    "s",
                )
                report("churn holdout AUC (synthetic club)", trained["metrics"]["holdout_auc"], "")
                champion = ctx.churn_models.get("bench")

                # Online store with 50,000 members: the club's real rows, replicated with new ids.
                async with sessions() as s:
                    log_ = await FeatureLogRepository(s).load("bench")
                members = [str(m) for m in log_.subjects]
                base = log_.rows(members, [now] * len(members))
                reps = int(np.ceil(ONLINE_MEMBERS / len(base)))
                raw = pd.concat([base] * reps, ignore_index=True).iloc[:ONLINE_MEMBERS]
                ids = [f"m{i:06d}" for i in range(ONLINE_MEMBERS)]
                t = time.perf_counter()
                for i in range(0, ONLINE_MEMBERS, 5000):
                    ctx.fs.push("bench", ids[i : i + 5000], raw.iloc[i : i + 5000], now)
                report(
                    "online store push (Feast, sqlite)", ONLINE_MEMBERS / (time.perf_counter() - t), "rows/s"
                )

                rng = np.random.default_rng(1)
                picks = rng.integers(0, ONLINE_MEMBERS, 20_000)
                lat = []
                for i in range(5000):
                    t = time.perf_counter()
                    ctx.fs.read("bench", [ids[picks[i]]])
                    lat.append(time.perf_counter() - t)
                report("feature read p50 (Feast online, one member)", percentile(lat, 50) * 1e3, "ms")
                report(
                    "feature read p99 (Feast online, one member)", percentile(lat, 99) * 1e3, "ms", "<= 3 ms"
                )

                baseline = champion.baseline
                now_s = np.array([now.timestamp()])

                def predict_one(i: int) -> None:
                    # What GET /churn/predict computes: online read, features, champion, risk, days, factors.
                    r, _ = ctx.fs.read_values("bench", [ids[picks[i % len(picks)]]])
                    x = feature_matrix(r, now_s)
                    p = champion.predict_matrix(x)
                    level = risk_levels(p, settings.risk_thresholds)[0]
                    days_until_churn(float(p[0]), 90)
                    factors = model_factors(champion, x[0], baseline)
                    recommended_actions(level, factors, as_row(x[0]))

                for i in range(300):
                    predict_one(i)  # warm-up
                service = []
                for i in range(2000):
                    t = time.perf_counter()
                    predict_one(i)
                    service.append(time.perf_counter() - t)
                report(
                    "online churn prediction incl. feature read, service time p50",
                    percentile(service, 50) * 1e3,
                    "ms",
                )
                report(
                    "online churn prediction incl. feature read, service time p99",
                    percentile(service, 99) * 1e3,
                    "ms",
                )
                lat, rate = _paced(predict_one, RATE, PACED_SECONDS)
                report(
                    "online churn prediction incl. feature read at 1,000 req/s: achieved rate",
                    rate,
                    "req/s",
                    ">= 1000 req/s",
                )
                report(
                    "online churn prediction incl. feature read at 1,000 req/s: p50",
                    percentile(lat, 50) * 1e3,
                    "ms",
                )
                report(
                    "online churn prediction incl. feature read at 1,000 req/s: p99",
                    percentile(lat, 99) * 1e3,
                    "ms",
                    "<= 10 ms",
                )

                # Everyone scored (and their rows pushed online), as the consumer would have done.
                t = time.perf_counter()
                result = await score_all(sessions, ctx, "bench")
                took = time.perf_counter() - t
                report(
                    "score-all through the pipeline (event log -> scores -> online push)",
                    result.members / took,
                    "members/s",
                )

                # The HTTP endpoint: first one request at a time (its latency), then paced at 1,000 req/s with
                # 32 requests in flight at most (a client's connection pool). The client shares the process.
                headers = auth_headers("bench", ["staff"])
                one_at_a_time = []
                for i in range(400):
                    t = time.perf_counter()
                    r = await svc.http.get(
                        "/api/v1/ml/churn/predict",
                        headers=headers,
                        params={"customerId": members[i % len(members)], "refresh": "true"},
                    )
                    assert r.status_code == 200, r.text
                    one_at_a_time.append(time.perf_counter() - t)
                report(
                    "HTTP churn predict, one request at a time, p50",
                    percentile(one_at_a_time, 50) * 1e3,
                    "ms",
                )
                report(
                    "HTTP churn predict, one request at a time, p99",
                    percentile(one_at_a_time, 99) * 1e3,
                    "ms",
                )
                http_lat: list[float] = []
                n = int(RATE * HTTP_SECONDS)
                start = time.perf_counter()
                next_i = 0

                async def worker() -> None:
                    nonlocal next_i
                    while next_i < n:
                        i = next_i
                        next_i += 1
                        due = start + i / RATE
                        delay = due - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        r = await svc.http.get(
                            "/api/v1/ml/churn/predict",
                            params={"customerId": members[i % len(members)]},
                            headers=headers,
                        )
                        assert r.status_code == 200, r.text
                        http_lat.append(time.perf_counter() - due)

                await asyncio.gather(*(worker() for _ in range(32)))
                elapsed = time.perf_counter() - start
                report(
                    "HTTP churn predict (in-process ASGI, PostgreSQL reads, stored prediction): achieved rate",
                    n / elapsed,
                    "req/s",
                    ">= 1000 req/s",
                )
                report("HTTP churn predict p50 (from scheduled time)", percentile(http_lat, 50) * 1e3, "ms")
                report(
                    "HTTP churn predict p99 (from scheduled time)",
                    percentile(http_lat, 99) * 1e3,
                    "ms",
                    "<= 10 ms",
                )

                # Batch scoring of 1,000,000 synthetic profiles (memory: raw rows are ~400 MB).
                big = pd.concat([base] * int(np.ceil(BATCH_PROFILES / len(base))), ignore_index=True).iloc[
                    :BATCH_PROFILES
                ]
                big = big.add(rng.normal(0, 0.01, big.shape) * big.abs(), fill_value=0)[list(RAW_FIELDS)]
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 2
                onnx_file = next((Path(p) for p in tmp.rglob("model.onnx")), None)
                sess = ort.InferenceSession(
                    str(onnx_file), sess_options=opts, providers=["CPUExecutionProvider"]
                )
                t = time.perf_counter()
                probs = []
                values = big.to_numpy(dtype=np.float64)
                for i in range(0, BATCH_PROFILES, 100_000):
                    f = feature_matrix(values[i : i + 100_000], np.array([now.timestamp()]))
                    x = f[:, champion.index].astype(np.float32)
                    p = sess.run([champion.output_name], {champion.input_name: x})[0][:, 1]
                    risk_levels(p, settings.risk_thresholds)
                    probs.append(p)
                took = time.perf_counter() - t
                report(
                    "batch scoring 1,000,000 profiles (features + engagement + ONNX churn + risk)",
                    took,
                    "s",
                    "<= 60 s",
                )
                report("batch scoring throughput", BATCH_PROFILES / took, "profiles/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
