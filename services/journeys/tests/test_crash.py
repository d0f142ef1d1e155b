"""Kill -9 the real service process with runs at every kind of stop (waiting for dispatch's answer, on a timer,
for an open with a timeout) and batches of steps in flight; start it again: every run finishes, no step ran twice,
no send or identity command was made twice, no timer was lost."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from harness import fairway_event, member
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from fairway_events import TopicNames
from fairway_events.contracts.dispatch import DispatchOutcomeRecorded, DispatchSource
from fairway_localinfra import free_port
from fairway_testkit.helpers import TEST_JWT_SECRET, auth_headers, send_upstream, wait_for

T = "stonehaven"
N = 240
HELD_FROM = 160  # the third wave
EVERY_STEP = {
    "trigger": {"type": "event", "eventType": "profile.created"},
    "steps": [
        {"id": "offer", "type": "SEND", "channel": "EMAIL", "templateId": "season-opener", "next": "pause",
         "notSent": "pause"},
        {"id": "pause", "type": "WAIT", "kind": "duration", "duration": "6 seconds", "next": "vip"},
        {"id": "vip", "type": "CONDITION", "criteria": {"rules": [{"field": "tags", "operator": "contains",
                                                                   "value": "vip"}]}, "yes": "tag", "no": "tag"},
        {"id": "tag", "type": "UPDATE", "addTags": ["season-2026"], "next": "split"},
        {"id": "split", "type": "SPLIT", "branches": [{"name": "a", "next": "opened"}, {"name": "b", "next": "opened"}]},
        {"id": "opened", "type": "WAIT", "kind": "event", "eventType": "messaging.email.opened", "ofStep": "offer",
         "timeout": "20 seconds", "next": "end", "onTimeout": "end"},
        {"id": "end", "type": "END"},
    ],
}
EXPECTED = ["offer", "pause", "vip", "tag", "split", "opened", "end"]


@contextlib.asynccontextmanager
async def service(env: dict[str, str], port: int) -> AsyncIterator[subprocess.Popen[bytes]]:
    log = open(Path(env["FAIRWAY_RUN_LOG"]), "ab")  # noqa: SIM115 (closed below)
    # Started and reaped here on purpose: the test kills this very process with SIGKILL.
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "fairway_journeys"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient() as http:
            async def ready() -> bool:
                if proc.poll() is not None:
                    raise AssertionError(f"the service exited with {proc.returncode}; see {env['FAIRWAY_RUN_LOG']}")
                try:
                    return (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(ready, timeout=120, what="the journeys process to be ready")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        log.close()


async def play_dispatch(bootstrap: str, topics: TopicNames, producer: AIOKafkaProducer, stop: asyncio.Event,
                        release: asyncio.Event) -> None:
    """Campaigns' dispatch, played: every request is REQUESTED from Messaging; every third recipient opens it.
    Requests of the last wave (HELD_FROM on) are answered only once `release` is set (after the restart), so
    those runs are waiting for dispatch when the process is killed."""
    held: list[Any] = []
    opens: list[asyncio.Task[None]] = []

    async def open_later(n: int, request_id: str) -> None:
        await asyncio.sleep(9)
        await send_upstream(producer, topics, "messaging.email.opened", T,
                            {"email": f"golfer{n:04d}@stonehavengolf.co.uk"},
                            {"messageId": f"m-{n}", "sendRequestId": request_id})

    consumer = AIOKafkaConsumer(topics("crm.dispatch.requests"), bootstrap_servers=bootstrap,
                                group_id=topics.group("tests.dispatch"), auto_offset_reset="earliest")
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            records = [r for rs in batch.values() for r in rs]
            if release.is_set():
                records, held = held + records, []
            for rec in records:
                req = json.loads(rec.value)["payload"]
                n = int(req["profileId"].split("-")[1])
                if not release.is_set() and n >= HELD_FROM:
                    held.append(rec)
                    continue
                out = fairway_event(DispatchOutcomeRecorded(
                    requestId=req["requestId"], profileId=req["profileId"], channel="EMAIL", outcome="REQUESTED",
                    source=DispatchSource(**req["source"]), at=json.loads(rec.value)["occurred_at"]),
                    T, req["profileId"])
                await producer.send_and_wait(topics("crm.dispatch.outcomes"), out.to_wire(),
                                             key=req["profileId"].encode())
                if n % 3 == 0:  # opened a while later: after the 6 s WAIT, within the 20 s wait for the open
                    opens.append(asyncio.create_task(open_later(n, req["requestId"])))
    finally:
        await consumer.stop()
        for t in opens:
            t.cancel()


async def _has(states: Any, state: str) -> bool:
    return (await states()).get(state, 0) > 0


async def test_kill_and_restart_loses_and_repeats_nothing(
        journeys_settings: Callable[..., Any], database_url: str, kafka_bootstrap: str, topic_prefix: str,
        database_name: str, pg_server_url: str, producer: AIOKafkaProducer, topics: TopicNames,
        tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "FAIRWAY_JOURNEYS_PORT": str(port), "FAIRWAY_JOURNEYS_DATABASE_URL": pg_server_url,
           "FAIRWAY_JOURNEYS_DATABASE_NAME": database_name, "FAIRWAY_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "FAIRWAY_TOPIC_PREFIX": topic_prefix, "FAIRWAY_JWT_SECRET": TEST_JWT_SECRET,
           "FAIRWAY_KAFKA_SESSION_TIMEOUT_MS": "3000", "FAIRWAY_JOURNEYS_JOBS_HEARTBEAT_SECONDS": "1",
           "FAIRWAY_JOURNEYS_JOBS_STALLED_SECONDS": "3", "FAIRWAY_LOG_JSON": "false",
           "FAIRWAY_RUN_LOG": str(tmp_path / "journeys.log")}
    headers = auth_headers(T, roles=("marketer",))
    stop = asyncio.Event()
    release = asyncio.Event()
    player = asyncio.create_task(play_dispatch(kafka_bootstrap, topics, producer, stop, release))
    db = create_async_engine(database_url, pool_size=2)

    async def scalar(sql: str) -> Any:
        async with db.connect() as c:
            return (await c.execute(text(sql))).scalar()

    try:
        async with service(env, port) as proc:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
                jid = (await http.post("/api/v1/journeys", json={"name": "Season opener",
                                                                 "definition": EVERY_STEP})).json()["id"]
                assert (await http.post(f"/api/v1/journeys/{jid}/activate")).status_code == 200
            async def states() -> dict[str, int]:
                async with db.connect() as c:
                    rows = (await c.execute(text(
                        "SELECT coalesce(waiting, status) AS at, count(*) FROM runs GROUP BY 1"))).all()
                return dict(rows)  # type: ignore[arg-type]

            async def wave(first: int, last: int, reaches: str) -> None:
                for i in range(first, last):
                    e = fairway_event(member(f"p-{i:04d}", f"golfer{i:04d}@stonehavengolf.co.uk"), T, f"p-{i:04d}")
                    await producer.send(topics("crm.identity"), e.to_wire(), key=e.aggregate_id.encode())
                await producer.flush()
                await wait_for(lambda: _has(states, reaches), timeout=120, interval=0.05,
                               what=f"runs of the wave from {first} reaching '{reaches}'")

            # Waves, so that at the kill runs wait at every kind of stop: the first for an open (20 s timeout),
            # the second on the 6 s timer, the third for dispatch's answer.
            await wave(0, 80, "event")
            await wave(80, HELD_FROM, "timer")
            await wave(HELD_FROM, N, "dispatch.outcome")
            seen: list[dict[str, int]] = []

            async def spread() -> dict[str, int] | None:
                async with db.connect() as c:
                    rows = (await c.execute(text(
                        "SELECT coalesce(waiting, status) AS at, count(*) FROM runs GROUP BY 1"))).all()
                got = dict(rows)  # type: ignore[arg-type]
                seen.append(got)
                return got if {"dispatch.outcome", "timer", "event"} <= set(got) else None

            try:
                at_kill = await wait_for(spread, timeout=180, interval=0.05,
                                         what="runs waiting for dispatch, on a timer and for an event")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; states seen: {seen[-5:]}") from None
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        started_before = await scalar("SELECT count(*) FROM runs")
        assert at_kill.get("COMPLETED", 0) < N and started_before <= N  # the kill caught work in flight

        async with service(env, port):
            release.set()

            async def finished() -> bool:
                return await scalar("SELECT count(*) FROM runs WHERE status = 'COMPLETED'") == N

            await wait_for(finished, timeout=180, interval=0.5, what=f"all {N} runs completed after the restart")
    finally:
        stop.set()
        await player
    async with db.connect() as c:
        steps = (await c.execute(text("SELECT run_id, step_id FROM run_steps ORDER BY run_id, seq"))).all()
        by_run: dict[str, list[str]] = {}
        for run_id, step_id in steps:
            by_run.setdefault(run_id, []).append(step_id)
        assert len(by_run) == N and all(v == EXPECTED for v in by_run.values())  # no step twice, none skipped
        counts = Counter(dict((await c.execute(text(
            "SELECT event_type, count(*) FROM event_outbox GROUP BY event_type"))).all()))  # type: ignore[arg-type]
        assert counts["run.started"] == counts["run.completed"] == N
        assert counts["dispatch.requested"] == N and counts["profile.update_requested"] == N
        assert counts["run.step_completed"] == N * (len(EXPECTED) - 1)
        assert (await c.execute(text("SELECT count(DISTINCT request_id) FROM sends"))).scalar() == N
        assert (await c.execute(text("SELECT count(*) FROM run_timers"))).scalar() == 0
        outcomes = Counter(r.outcome for r in (await c.execute(text(
            "SELECT outcome FROM run_steps WHERE step_id = 'opened'"))).all())
        assert outcomes["event"] > 0 and outcomes["timeout"] > 0
    await db.dispose()
