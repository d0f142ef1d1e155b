"""ml-scoring benchmarks (`python -m fairway_bench.ml_scoring`): print figures, never assert.

1. feature read alone: Feast online store (sqlite) get_online_features for one member, 50,000 members stored.
2. online churn prediction including the feature read (the service's micro-batching predictor: online read +
   model features + ONNX champion + risk + top factors + recommended actions, the document the API returns):
   one at a time, then paced at 1,000 requests/s by an asyncio open-loop driver (each request starts at its
   scheduled time whatever the previous ones do, latency counts from that time, so queueing shows).
3. the same through the HTTP endpoint (GET /api/v1/ml/churn/predict, in-process ASGI client, auth, PostgreSQL
   read of the last prediction, stored prediction), one at a time, then paced at 1,000 requests/s by the same
   driver at 1,000 and at 500 requests/s: new predictions (refresh=true: compute + store) and repeated ones
   (the stored prediction is returned). CPU time per request is printed too: it does not depend on what else
   the machine runs.
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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairway_bench.benchkit import bench_env, percentile, report
from fairway_chassis.gc_tuning import tune_gc

ONLINE_MEMBERS = 50_000
PACED_SECONDS = 5.0
HTTP_SECONDS = 3.0
RATE = 1000.0
BATCH_PROFILES = 1_000_000


async def _paced(
    call: Callable[[int], Awaitable[Any]], rate: float, seconds: float
) -> tuple[list[float], float, float]:
    """Open loop: start call(i) at start + i / rate as its own task, whether or not earlier calls finished.
    Returns (latencies from each call's scheduled time, achieved rate, CPU seconds per call)."""
    n = int(rate * seconds)
    lat: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        await call(i)
        lat.append(time.perf_counter() - due)

    cpu = time.process_time()
    start = time.perf_counter()
    i = 0
    while i < n:
        now = time.perf_counter()
        while i < n and start + i / rate <= now:
            task = asyncio.create_task(one(i, start + i / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if i < n:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
    while tasks:
        await asyncio.gather(*tasks)
    return lat, n / (time.perf_counter() - start), (time.process_time() - cpu) / n


async def _one_at_a_time(call: Callable[[int], Awaitable[Any]], n: int) -> tuple[list[float], float]:
    """Latencies of n sequential calls, and CPU seconds per call."""
    lat = []
    cpu = time.process_time()
    for i in range(n):
        t = time.perf_counter()
        await call(i)
        lat.append(time.perf_counter() - t)
    return lat, (time.process_time() - cpu) / n


def _report_paced(name: str, lat: list[float], achieved: float, cpu: float, rate: float = RATE) -> None:
    at = f"{name} at {rate:,.0f} req/s"
    report(f"{at}: achieved rate", achieved, "req/s", f">= {rate:,.0f} req/s")
    report(f"{at}: CPU per request", cpu * 1e3, "ms")
    report(f"{at}: p50", percentile(lat, 50) * 1e3, "ms")
    report(f"{at}: p99", percentile(lat, 99) * 1e3, "ms", "<= 10 ms")


async def main() -> None:
    from fairway_ml_scoring.app import create_app
    from fairway_ml_scoring.churn.risk import risk_levels
    from fairway_ml_scoring.churn.service import choose
    from fairway_ml_scoring.features.engine import RAW_FIELDS
    from fairway_ml_scoring.features.transform import feature_matrix
    from fairway_ml_scoring.lifecycle import service
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
                tune_gc()  # as the service's own process does
                ctx = svc.runtime.state
                sessions = svc.runtime.sessionmaker
                now = datetime.now(UTC)
                events, roster = club_history(
                    "bench", members=400, start=now - timedelta(days=640), end=now, seed=9
                )
                from fairway_ml_scoring.features.repository import (
                    FeatureLogBatchRepository,
                    FeatureLogRepository,
                )

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
                    repo = FeatureLogBatchRepository(s)
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
                    log_ = await FeatureLogRepository(s, "bench").load()
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

                online = ctx.churn_online

                async def predict_one(i: int) -> None:
                    # What GET /churn/predict computes: variant choice, then the online predictor (online read,
                    # features, champion with its occlusions, risk, days, factors, actions: the document).
                    subject = ids[picks[i % len(picks)]]
                    result = await online.predict(
                        "bench", subject, choose(ctx, "bench", subject), None, ctx.now()
                    )
                    assert result is not None

                await _one_at_a_time(predict_one, 300)  # warm-up
                service_lat, cpu = await _one_at_a_time(predict_one, 2000)
                name = "online churn prediction incl. feature read"
                report(f"{name}, one at a time: CPU per request", cpu * 1e3, "ms")
                report(f"{name}, one at a time: p50", percentile(service_lat, 50) * 1e3, "ms")
                report(f"{name}, one at a time: p99", percentile(service_lat, 99) * 1e3, "ms")
                batches, requests = online.batches, online.requests
                lat, achieved, cpu = await _paced(predict_one, RATE, PACED_SECONDS)
                _report_paced(name, lat, achieved, cpu)
                report(
                    f"{name} at 1,000 req/s: requests per batch",
                    (online.requests - requests) / max(1, online.batches - batches),
                    "",
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

                # The HTTP endpoint (the client shares the process): one request at a time, then paced.
                headers = auth_headers("bench", ["staff"])

                def http(refresh: bool) -> Callable[[int], Awaitable[None]]:
                    params = {"refresh": "true"} if refresh else {}

                    async def call(i: int) -> None:
                        r = await svc.http.get(
                            "/api/v1/ml/churn/predict",
                            headers=headers,
                            params={"customerId": members[i % len(members)], **params},
                        )
                        assert r.status_code == 200, r.text

                    return call

                await _one_at_a_time(http(True), 200)  # warm-up
                for refresh, label in ((True, "new prediction"), (False, "stored prediction")):
                    name = f"HTTP churn predict ({label})"
                    one_lat, cpu = await _one_at_a_time(http(refresh), 400)
                    report(f"{name}, one at a time: CPU per request", cpu * 1e3, "ms")
                    report(f"{name}, one at a time: p50", percentile(one_lat, 50) * 1e3, "ms")
                    report(f"{name}, one at a time: p99", percentile(one_lat, 99) * 1e3, "ms")
                    # The target rate, and half of it: what one process sustains with the client in it.
                    for rate in (RATE, RATE / 2):
                        lat, achieved, cpu = await _paced(http(refresh), rate, HTTP_SECONDS)
                        _report_paced(name, lat, achieved, cpu, rate)

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
