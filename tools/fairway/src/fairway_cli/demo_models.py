"""The demo club's data scientist: once ml-scoring has taken in the club's history, train the churn and CLV models
with `fairway-ml train` (the command a data scientist runs), which logs them to MLflow, registers them and promotes
them when they pass the gate; the service then serves the champions with ONNX Runtime.

Runs in the simulators' process after the history is published, so `make up` does not wait for it. Once per club:
a marker under the simulators' state folder records the versions.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from fairway_events.catalogue import UPSTREAM, TopicNames

# The simulated history covers six months: a 30-day churn horizon leaves a holdout month and five months of
# training snapshots before it; CLV is compared on the last 90 days.
CHURN_HORIZON_DAYS = 30
CLV_HORIZON_DAYS = 90


async def _ends(bootstrap: str, names: TopicNames, topics: list[str]) -> dict[TopicPartition, int]:
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="fairway-demo-models")
    await probe.start()
    try:
        await probe.topics()
        parts = [TopicPartition(names(t), p) for t in topics for p in sorted(probe.partitions_for_topic(names(t)) or ())]
        return dict(await probe.end_offsets(parts)) if parts else {}
    finally:
        await probe.stop()


async def _behind(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> int:
    """Events of `ends` the group has not committed yet (reading its offsets does not join it)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                              client_id="fairway-demo-models")
    await reader.start()
    try:
        behind = 0
        for tp, end in ends.items():
            behind += max(0, end - (await reader.committed(tp) or 0))
        return behind
    finally:
        await reader.stop()


async def wait_for_history(bootstrap: str, names: TopicNames, *, timeout: float, interval: float = 2.0) -> bool:
    """True once identity and timeline have taken in what the upstream topics hold now, and ml-scoring has taken
    in that and what identity and timeline announced about it (later live events are not waited for)."""
    deadline = asyncio.get_running_loop().time() + timeout
    upstream = await _ends(bootstrap, names, list(UPSTREAM))
    stages = [(("identity.resolution", "timeline.activities"), upstream), (("ml-scoring.features",), None)]
    for groups, ends in stages:
        if ends is None:  # what identity and timeline announced about the history, as far as it goes now
            ends = {**upstream, **await _ends(bootstrap, names, ["crm.identity", "crm.timeline"])}
        for group in groups:
            while await _behind(bootstrap, names.group(group), ends):
                if asyncio.get_running_loop().time() > deadline:
                    return False
                await asyncio.sleep(interval)
    return True


def _fairway_ml() -> str:
    beside = Path(sys.executable).parent / "fairway-ml"
    return str(beside) if beside.exists() else (shutil.which("fairway-ml") or "fairway-ml")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    run_dir = env.get("FAIRWAY_ML_SCORING_RUN_DIR") or env.get("FAIRWAY_RUN_DIR")
    if run_dir and not os.access(run_dir, os.W_OK):  # a read-only container: Feast's local files go to /tmp
        env["FAIRWAY_ML_SCORING_RUN_DIR"] = tempfile.mkdtemp(prefix="fairway-ml-")
    return env


async def fairway_ml(*args: str) -> dict[str, Any]:
    """Run one `fairway-ml` command; its JSON result (logs go to this process's output)."""
    proc = await asyncio.create_subprocess_exec(_fairway_ml(), *args, env=_env(), stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"fairway-ml {' '.join(args)} exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


async def train(tenant: str, *, bootstrap: str, names: TopicNames, state_dir: Path,
                wait_timeout: float = 1800.0) -> dict[str, Any] | None:
    """Train and promote the club's churn and CLV models once; the versions, or None if not done (again)."""
    marker = state_dir / f"{tenant}.models.json"
    if marker.exists():
        print(f"demo models: '{tenant}' already trained ({marker})", flush=True)
        return None
    if not await wait_for_history(bootstrap, names, timeout=wait_timeout):
        print(f"demo models: ml-scoring had not taken in the history after {wait_timeout:g}s; training on what "
              "it has", flush=True)
    today = datetime.now(UTC).date().isoformat()
    done: dict[str, Any] = {"tenant": tenant, "asOf": today}
    for model, horizon in (("churn", CHURN_HORIZON_DAYS), ("clv", CLV_HORIZON_DAYS)):
        report = await fairway_ml("train", model, "--tenant", tenant, "--as-of", today,
                                  "--horizon-days", str(horizon))
        done[model] = {"version": report.get("version"), "promoted": report.get("promoted"),
                       "gate": report.get("gate")}
        print(f"demo models: {model} version {report.get('version')} trained as of {today}, "
              f"promoted: {report.get('promoted')}", flush=True)
    if done["churn"]["promoted"]:  # else the next start tries again (more history by then)
        marker.write_text(json.dumps(done))
    return done
