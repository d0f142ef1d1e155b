"""A real crash mid-dispatch: the campaigns service runs as its own process, is SIGKILLed while it works through
journeys' dispatch requests, and is started again. Every request is decided once, and the send-request topic holds
exactly one send request per request id (the relay may re-deliver a record it had sent but not yet marked; that is
the same event, which Messaging's de-duplication on the key absorbs)."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from dispatch_helpers import NO_RULES, request, snapshot  # type: ignore[import-not-found]

from fairway_campaigns.app import MIGRATIONS
from fairway_campaigns.dispatch.repository import DispatchRepository
from fairway_campaigns.settings import Settings
from fairway_chassis.db import ensure_database, make_engine, make_sessionmaker, migrate
from fairway_events import registry
from fairway_events.catalogue import TopicNames
from fairway_events.envelope import decode_raw
from fairway_events.kafka import create_topics
from fairway_localinfra import free_port
from fairway_testkit import TEST_JWT_SECRET, wait_for

CLUB = "stonehaven"
N = 1500


@asynccontextmanager
async def service_process(settings: Settings, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "FAIRWAY_CAMPAIGNS_DATABASE_URL": settings.database_url,
           "FAIRWAY_CAMPAIGNS_DATABASE_NAME": settings.db_name, "FAIRWAY_CAMPAIGNS_KAFKA_BOOTSTRAP":
           settings.kafka_bootstrap, "FAIRWAY_CAMPAIGNS_TOPIC_PREFIX": settings.topic_prefix,
           "FAIRWAY_JWT_SECRET": TEST_JWT_SECRET, "FAIRWAY_CAMPAIGNS_PORT": str(free_port()),
           "FAIRWAY_CAMPAIGNS_KAFKA_SESSION_TIMEOUT_MS": "3000", "FAIRWAY_CAMPAIGNS_LOG_LEVEL": "WARNING"}
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "fairway_campaigns", env=env,
                                                    stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def test_killed_mid_dispatch_then_restarted_every_request_goes_once(settings_for, producer: AIOKafkaProducer,
                                                                          tmp_path: Path) -> None:  # noqa: ANN001
    s = settings_for(Settings)
    topics = TopicNames(s.topic_prefix)
    await ensure_database(s.service_database_url)
    await migrate(MIGRATIONS, s.service_database_url)
    engine = make_engine(s.service_database_url, 2)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await DispatchRepository(session, CLUB).save_settings(NO_RULES, datetime.now(UTC), "tester")
        await session.commit()
    db = await asyncpg.connect(s.service_database_url.replace("+asyncpg", ""))

    async def count(sql: str) -> int:
        return int(await db.fetchval(sql))

    ids = [f"p-{i:04d}" for i in range(N)]
    requests = [request(p, kind="JOURNEY", source="journey-renewal", run=f"run-{p}", step="remind") for p in ids]
    log = tmp_path / "campaigns.log"
    await create_topics(s.kafka_bootstrap, topics)
    try:
        async with service_process(s, log) as first:
            # The read model, from identity's events on the broker.
            for p in ids:
                env = registry.envelope(snapshot(p), tenant_id=CLUB, aggregate_id=p, source="identity")
                await producer.send(topics("crm.identity"), env.to_wire(), key=p.encode())  # acks awaited by flush
            await producer.flush()
            await wait_for(lambda: _profiles_loaded(count, N) if first.returncode is None else _dead(log),
                           timeout=180, interval=0.2, what="the profiles read model")
            for r in requests:
                env = registry.envelope(r, tenant_id=CLUB, aggregate_id=r.profileId, source="journeys")
                await producer.send(topics("crm.dispatch.requests"), env.to_wire(), key=r.profileId.encode())
            await producer.flush()
            await wait_for(lambda: count("SELECT count(*) FROM dispatch_ledger"), timeout=120, interval=0.01,
                           what="the first decisions")
            first.send_signal(signal.SIGKILL)  # mid-work: no shutdown, no commit of what is in flight
            await first.wait()
        decided_at_kill = await count("SELECT count(*) FROM dispatch_ledger")
        assert 0 < decided_at_kill < N, "the kill should land mid-dispatch"

        async with service_process(s, log):
            await wait_for(lambda: _all(count, N), timeout=240, interval=0.2, what="every request decided and sent")
            on_topic = await _send_requests(s.kafka_bootstrap, topics("crm.messaging.send_requests"), N)
    finally:
        await db.close()
        await engine.dispose()

    assert set(on_topic) == {r.requestId for r in requests}
    assert all(len(events) == 1 for events in on_topic.values()), "one send request (event) per request id"


async def _dead(log: Path) -> int:
    raise AssertionError(f"the service process died:\n{log.read_text()[-3000:]}")


async def _profiles_loaded(count, n: int) -> bool:  # noqa: ANN001
    return await count("SELECT count(*) FROM dispatch_profiles") == n


async def _all(count, n: int) -> bool:  # noqa: ANN001
    return (await count("SELECT count(*) FROM dispatch_ledger WHERE status = 'REQUESTED'") == n
            and await count("SELECT count(*) FROM event_outbox WHERE event_type = 'messaging.send.requested' "
                            "AND published_at IS NULL") == 0)


async def _send_requests(bootstrap: str, topic: str, n: int) -> dict[str, set[str]]:
    """request id -> the event ids of the records carrying it, read from the broker."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    seen: dict[str, set[str]] = defaultdict(set)
    try:
        async def drained() -> bool:
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for records in batch.values():
                for rec in records:
                    env = registry.validate(decode_raw(rec.value))
                    assert rec.key.decode() == env.payload.requestId  # keyed by the request id
                    seen[env.payload.requestId].add(env.event_id)
            return len(seen) >= n
        await wait_for(drained, timeout=120, what="the send requests on the topic")
        await asyncio.sleep(1.0)  # anything after the last one would be a duplicate: read it too
        await drained()
    finally:
        await consumer.stop()
    return seen
