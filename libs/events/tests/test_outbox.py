import asyncio
from collections import defaultdict

from aiokafka import AIOKafkaConsumer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import OutboxRelay, TopicNames, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SendRequested
from fairway_events.kafka import make_producer

from .conftest import outbox_table


def send_request(i: int, profile: str):
    payload = SendRequested(requestId=f"r{i}", channel="EMAIL", recipient=Recipient(profileId=profile), body=f"#{i}")
    return registry.envelope(payload, tenant_id="club-a", aggregate_id=profile, source="test")


async def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 20) -> list:
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await c.start()
    out: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            for recs in (await c.getmany(timeout_ms=300)).values():
                out.extend(recs)
        await asyncio.sleep(0.5)  # anything extra (a duplicate) shows up now
        for recs in (await c.getmany(timeout_ms=300)).values():
            out.extend(recs)
    finally:
        await c.stop()
    return out


async def test_relay_publishes_committed_rows_in_order_per_aggregate_and_never_rolled_back_ones(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames
) -> None:
    sm = async_sessionmaker(engine)
    profiles = [f"p{i}" for i in range(5)]
    async with sm() as s, s.begin():
        await outbox.append_many(s, [send_request(i, profiles[i % 5]) for i in range(300)])
    async with sm() as s:  # a transaction that rolls back must publish nothing
        await outbox.append(s, send_request(999, "p0"))
        await s.rollback()

    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(engine, producer, created_topics, service="test", batch_size=64)
    task = asyncio.create_task(relay.run())
    try:
        records = await consume_all(kafka_bootstrap, created_topics("crm.messaging.send_requests"), 300)
    finally:
        relay.stop()
        await task
        await producer.stop()

    assert len(records) == 300
    bodies = [registry.validate(__import__("fairway_events").envelope.decode_raw(r.value)) for r in records]
    assert "r999" not in {b.payload.requestId for b in bodies}
    per_key: dict[str, list[int]] = defaultdict(list)
    for b in bodies:
        per_key[b.aggregate_id].append(int(b.payload.requestId[1:]))
    for key, seq in per_key.items():
        assert seq == sorted(seq), f"aggregate {key} out of order"
    async with engine.connect() as conn:
        unpublished = (await conn.execute(select(outbox_table.c.id).where(outbox_table.c.published_at.is_(None)))).all()
    assert unpublished == []


async def test_relay_resumes_after_restart_without_republishing(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames
) -> None:
    sm = async_sessionmaker(engine)
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    try:
        async with sm() as s, s.begin():
            await outbox.append_many(s, [send_request(i, "p1") for i in range(10)])
        async with engine.connect() as conn:
            assert await OutboxRelay(engine, producer, created_topics, service="t").publish_once(conn) == 10
        async with sm() as s, s.begin():  # written while "the relay was down"
            await outbox.append_many(s, [send_request(i, "p1") for i in range(10, 15)])
        async with engine.connect() as conn:  # a new relay instance: only the new rows go out
            assert await OutboxRelay(engine, producer, created_topics, service="t").publish_once(conn) == 5
            assert await OutboxRelay(engine, producer, created_topics, service="t").publish_once(conn) == 0
    finally:
        await producer.stop()
    records = await consume_all(kafka_bootstrap, created_topics("crm.messaging.send_requests"), 15)
    assert len(records) == 15


async def test_only_one_relay_holds_the_lock(engine: AsyncEngine, kafka_bootstrap: str,
                                             created_topics: TopicNames) -> None:
    relay = OutboxRelay(engine, None, created_topics, service="locked")  # type: ignore[arg-type]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": relay.lock_key})).scalar()
        async with engine.connect() as other:
            got = (await other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": relay.lock_key})).scalar()
            assert got is False


async def test_an_idle_relay_wakes_on_committed_rows_without_polling(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames
) -> None:
    """With the notify trigger, a relay that polls only every 60 s still publishes a new row at once."""
    from sqlalchemy import text

    from fairway_events.tables import OUTBOX_NOTIFY_DDL

    async with engine.begin() as conn:
        for ddl in OUTBOX_NOTIFY_DDL:
            await conn.execute(text(ddl))
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(engine, producer, created_topics, service="test-listen", listen_interval=60)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.5)  # the relay has found the outbox empty and waits
        async with async_sessionmaker(engine)() as s, s.begin():
            await outbox.append(s, send_request(1, "p1"))
        start = asyncio.get_running_loop().time()
        records = await consume_all(kafka_bootstrap, created_topics("crm.messaging.send_requests"), 1)
        assert len(records) == 1
        assert asyncio.get_running_loop().time() - start < 30  # woken, not polled
    finally:
        relay.stop()
        await task
        await producer.stop()
