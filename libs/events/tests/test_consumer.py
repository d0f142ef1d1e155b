import asyncio
import json

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_events import Delivery, Dispatch, EventConsumer, TopicNames
from fairway_events.dlq import read_dead_letters, replay
from fairway_testkit import upstream_event, wait_for

from .conftest import effects


def make_consumer(engine: AsyncEngine, topics: TopicNames, producer: AIOKafkaProducer, fail_on: set[str],
                  tenants: set[str] | None = None) -> EventConsumer:
    dispatch = Dispatch()

    @dispatch.on("teetime.booking.created", "scl.payment.received")
    async def record(session: AsyncSession, env) -> None:  # noqa: ANN001
        if env.event_id in fail_on:
            raise RuntimeError(f"cannot handle {env.event_id}")
        await session.execute(insert(effects).values(event_id=env.event_id, n=1).on_conflict_do_update(
            index_elements=["event_id"], set_={"n": effects.c.n + 1}))

    return EventConsumer(name="test-consumer", topics=["teetime.events", "scl.events"], handler=dispatch,
                         handles=dispatch.types, topic_names=topics, sessionmaker=async_sessionmaker(engine),
                         producer=producer, backoff=0.01, tenants=tenants)


class FakeRecord:
    def __init__(self, value: bytes, topic: str, offset: int, headers=()) -> None:  # noqa: ANN001
        self.value, self.topic, self.offset, self.partition, self.key = value, topic, offset, 0, b"k"
        self.headers = list(headers)


async def effect_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as c:
        return dict((await c.execute(select(effects.c.event_id, effects.c.n))).all())


async def test_effects_happen_once_and_poison_goes_to_dlq_with_reason(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    consumer = make_consumer(engine, created_topics, producer, fail_on={"poison"})
    topic = created_topics("teetime.events")
    good = [upstream_event("teetime.booking.created", "club-a", {"email": f"p{i}@x.com"}, {"bookingId": f"b{i}"},
                           event_id=f"good-{i}") for i in range(5)]
    records = [FakeRecord(v, topic, i) for i, v in enumerate(good)]
    records.insert(2, FakeRecord(good[1], topic, 99))  # the same event delivered twice in one batch
    records.append(FakeRecord(b"{oops", topic, 100))
    records.append(FakeRecord(upstream_event("teetime.booking.created", "club-a", {"email": "z@x.com"},
                                             {"bookingId": "p"}, event_id="poison"), topic, 101))
    records.append(FakeRecord(upstream_event("teetime.booking.created", "club-a", {"email": "z@x.com"},
                                             {"bookingId": "h"}, event_id="hdr"), topic, 102,
                              headers=[("tenant_id", b"club-b")]))
    await consumer.process(records)
    await consumer.process(records[:3])  # a redelivery after a crash: no second effect

    assert await effect_counts(engine) == {f"good-{i}": 1 for i in range(5)}
    letters = await wait_for(lambda: _letters(kafka_bootstrap, created_topics, 3), what="3 dead letters")
    reasons = {d.kind: d.reason for d in letters}
    assert "malformed JSON" in reasons["malformed"]
    assert "cannot handle poison" in reasons["handler_failed"]
    assert "wrong tenant" in reasons["rejected"]
    assert {d.value for d in letters} >= {b"{oops"}


async def _letters(bootstrap: str, topics: TopicNames, n: int) -> list:
    letters = await read_dead_letters(bootstrap, [topics.dlq("teetime.events")], timeout=3)
    return letters if len(letters) >= n else []


async def test_unknown_tenant_is_dead_lettered_when_tenants_are_configured(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    consumer = make_consumer(engine, created_topics, producer, fail_on=set(), tenants={"club-a"})
    topic = created_topics("scl.events")
    await consumer.process([
        FakeRecord(upstream_event("scl.payment.received", "club-x", {"email": "a@x.com"},
                                  {"paymentId": "1", "amount": 10}, event_id="x1"), topic, 0),
    ])
    assert await effect_counts(engine) == {}
    letters = await wait_for(lambda: _dlq(kafka_bootstrap, created_topics.dlq("scl.events")), what="dead letter")
    assert "not a tenant of this installation" in letters[0].reason


async def _dlq(bootstrap: str, topic: str) -> list:
    return await read_dead_letters(bootstrap, [topic], timeout=3)


async def test_through_the_broker_with_replay_of_a_fixed_dead_letter(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    fail_on = {"flaky"}
    consumer = make_consumer(engine, created_topics, producer, fail_on=fail_on)
    await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
    try:
        topic = created_topics("teetime.events")
        for i, eid in enumerate(["a", "flaky", "b"]):
            await producer.send_and_wait(topic, upstream_event("teetime.booking.created", "club-a",
                                                               {"email": "p@x.com"}, {"bookingId": str(i)},
                                                               event_id=eid), key=b"p")
        await wait_for(lambda: _has(engine, {"a", "b"}), what="a and b committed")
        letters = await wait_for(lambda: _dlq(kafka_bootstrap, created_topics.dlq("teetime.events")), what="dlq")
        assert letters[0].original_topic == topic
        fail_on.clear()  # the bug is fixed; replay the dead letter to its topic
        await replay(producer, letters)
        await wait_for(lambda: _has(engine, {"a", "b", "flaky"}), what="flaky committed after replay")
        await asyncio.sleep(0.5)
        assert await effect_counts(engine) == {"a": 1, "b": 1, "flaky": 1}
    finally:
        await consumer.stop()


async def _has(engine: AsyncEngine, ids: set[str]) -> bool:
    return set(await effect_counts(engine)) == ids


async def test_inbox_rows_commit_with_effects(engine: AsyncEngine, created_topics: TopicNames,
                                              producer: AIOKafkaProducer) -> None:
    """A handler failure rolls back the inbox claim too, so the event is not lost as 'seen'."""
    from .conftest import inbox_table

    consumer = make_consumer(engine, created_topics, producer, fail_on={"boom"})
    rec = FakeRecord(json.dumps(json.loads(upstream_event("teetime.booking.created", "club-a", {"email": "a@x.com"},
                                                           {"bookingId": "1"}, event_id="boom"))).encode(),
                     created_topics("teetime.events"), 0)
    await consumer.process([rec])
    async with engine.connect() as c:
        assert (await c.execute(select(func.count()).select_from(inbox_table))).scalar() == 0


def test_delivery_is_a_value() -> None:
    assert Delivery.__dataclass_params__.frozen  # type: ignore[attr-defined]


async def test_the_same_id_from_two_upstream_systems_is_two_events(
    engine: AsyncEngine, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    consumer = make_consumer(engine, created_topics, producer, fail_on=set())
    scl = FakeRecord(upstream_event("scl.payment.received", "club-a", {"email": "a@x.com"},
                                    {"paymentId": "1", "amount": 5}, event_id="123"), created_topics("scl.events"), 0)
    tee = FakeRecord(upstream_event("teetime.booking.created", "club-a", {"email": "a@x.com"}, {"bookingId": "b"},
                                    event_id="123"), created_topics("teetime.events"), 0)
    await consumer.process([scl, tee])
    await consumer.process([tee])
    async with engine.connect() as c:
        from .conftest import inbox_table

        keys = set((await c.execute(select(inbox_table.c.event_id))).scalars())
    assert keys == {"scl:123", "teetime:123"}
    assert await effect_counts(engine) == {"123": 2}  # one effect per event: the stand-in table keys by id only


async def test_pipelined_loop_commits_only_the_offsets_of_applied_batches(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    """While batch 1 is stuck in its transaction, batch 2 is fetched and decoded but neither applied nor committed;
    once batch 1 finishes, both apply in order and the committed offset covers exactly what was applied."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    gate, entered, order = asyncio.Event(), asyncio.Event(), []
    dispatch = Dispatch()

    @dispatch.on("teetime.booking.created")
    async def record(session: AsyncSession, env) -> None:  # noqa: ANN001
        order.append(env.event_id)
        if env.event_id == "first":
            entered.set()
            await gate.wait()
        await session.execute(insert(effects).values(event_id=env.event_id, n=1))

    consumer = EventConsumer(name="pipelined", topics=["teetime.events"], handler=dispatch, handles=dispatch.types,
                             topic_names=created_topics, sessionmaker=async_sessionmaker(engine), producer=producer,
                             max_records=1)
    topic = created_topics("teetime.events")
    sent = [await producer.send_and_wait(topic, upstream_event("teetime.booking.created", "club-a", {"email": "p@x.com"},
                                                                {"bookingId": eid}, event_id=eid), key=b"p")
            for eid in ("first", "second", "third")]
    tp = TopicPartition(topic, sent[0].partition)
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=created_topics.group("pipelined"),
                             enable_auto_commit=False)
    await probe.start()
    await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
    try:
        await asyncio.wait_for(entered.wait(), 60)
        await asyncio.sleep(1.0)  # time for the loop to fetch and decode the next batch
        assert order == ["first"]  # batch 2 waits for batch 1
        assert await probe.committed(tp) == 0  # its starting position, committed when it joined
        assert await effect_counts(engine) == {}
        gate.set()
        await wait_for(lambda: _has(engine, {"first", "second", "third"}), what="all three applied")
        assert order == ["first", "second", "third"]
        await wait_for(lambda: _committed_is(probe, tp, sent[-1].offset + 1), what="offset after the last batch")
    finally:
        gate.set()
        await consumer.stop()
        await probe.stop()


async def _committed_is(probe, tp, offset: int) -> bool:  # noqa: ANN001
    return await probe.committed(tp) == offset
