"""`python -m fairway_bench.backbone`: the backbone's own figures (libs/events).

Figures: outbox relay throughput (committed rows -> acknowledged by the broker) and inbox-consumer
throughput (broker -> de-duplicated and committed in PostgreSQL). Target: >= 20,000 events/s each.
"""
from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fairway_bench.benchkit import bench_env, report
from fairway_chassis.gc_tuning import tune_gc
from fairway_events import Delivery, EventConsumer, OutboxRelay, TopicNames, event_tables, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SendRequested
from fairway_events.envelope import upstream_wire
from fairway_events.kafka import create_topics, make_producer

N = int(os.environ.get("FAIRWAY_BENCH_BACKBONE_EVENTS", "100000"))  # smaller to check the wiring only


async def bench_backbone() -> None:
    async with bench_env() as env:
        topics = TopicNames("bench.")
        await create_topics(env.bootstrap, topics)
        url = await env.fresh_database("events")
        engine = create_async_engine(url, pool_size=5)
        md = MetaData()
        event_tables(md)
        effects = Table("effects", md, Column("event_id", String, primary_key=True), Column("n", Integer))
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
        sm = async_sessionmaker(engine)

        # -- outbox relay ---------------------------------------------------------------------------------
        envs = [registry.envelope(SendRequested(requestId=f"r{i}", channel="EMAIL",
                                                recipient=Recipient(profileId=f"p{i % 5000}"), body="hello"),
                                  tenant_id="bench", aggregate_id=f"p{i % 5000}", source="bench") for i in range(N)]
        for chunk in range(0, N, 10_000):
            async with sm() as s, s.begin():
                await outbox.append_many(s, envs[chunk:chunk + 10_000])
        producer = make_producer(env.bootstrap)
        await producer.start()
        relay = OutboxRelay(engine, producer, topics, service="bench", batch_size=5000)
        start = time.perf_counter()
        async with engine.connect() as conn:
            sent = 0
            while sent < N:
                sent += await relay.drain(conn)
        elapsed = time.perf_counter() - start
        report("events.outbox_relay_throughput", N / elapsed, "events/s", ">= 20,000 events/s")

        # -- inbox consumer -------------------------------------------------------------------------------
        topic = topics("teetime.events")
        futures = []
        for i in range(N):
            body = upstream_wire(event_id=f"ev-{i}", event_type="teetime.round.played", tenant_id="bench",
                                 timestamp=datetime.now(UTC),
                                 identity={"teetimePlayerId": f"T{i % 5000}"}, payload={"roundId": f"R{i}"})
            futures.append(await producer.send(topic, body, key=f"T{i % 5000}".encode()))
        await asyncio.gather(*futures)

        # One row of effect per event, written as arrays in one statement (what a batch handler should do).
        effect = text("INSERT INTO effects (event_id, n) SELECT e, 1 FROM unnest(CAST(:ids AS text[])) AS e "
                      "ON CONFLICT DO NOTHING")

        async def handler(session: AsyncSession, deliveries: list[Delivery]) -> None:
            await session.execute(effect, {"ids": [d.envelope.event_id for d in deliveries]})

        consumer = EventConsumer(name="bench-consumer", topics=["teetime.events"], handler=handler,
                                 handles={"teetime.round.played"}, topic_names=topics, sessionmaker=sm,
                                 producer=producer, max_records=2000)
        tune_gc()  # as every service does once started
        # Measure from the first committed effect, so the group join is not counted.
        await consumer.start(env.bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
        first = None
        while True:
            async with engine.connect() as conn:
                n = (await conn.execute(select(func.count()).select_from(effects))).scalar()
            if n and first is None:
                first, first_n = time.perf_counter(), n
            if n >= N:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - first
        report("events.inbox_consumer_throughput", (N - first_n) / elapsed, "events/s", ">= 20,000 events/s")
        await consumer.stop()
        await producer.stop()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(bench_backbone())
