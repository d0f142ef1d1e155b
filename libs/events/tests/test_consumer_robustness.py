"""No message stops a partition; a consumer that cannot move says so; a slow batch never expels its member for good.

Everything here runs through the real broker: the sizes, the group's rebalances and the commits are the broker's.
"""
import asyncio
import os

import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from fairway_events import Dispatch, EventConsumer, Retryable, TopicNames
from fairway_events import consumer as consumer_module
from fairway_events.dlq import HEAD_BYTES, read_dead_letters, replay
from fairway_testkit import upstream_event, wait_for

from .conftest import effects
from .test_consumer import effect_counts

MIB = 1024 * 1024


def booking(event_id: str, email: str = "ayesha.naidoo@fairwaygolf.co.za", **extra: str) -> bytes:
    return upstream_event("teetime.booking.created", "fairway-golf", {"email": email},
                          {"bookingId": event_id, **extra}, event_id=event_id)


def recording_consumer(engine: AsyncEngine, topics: TopicNames, producer: AIOKafkaProducer, *, name: str,
                       before=None, max_records: int = 500) -> tuple[EventConsumer, list[str]]:  # noqa: ANN001
    """A consumer whose handler records each event once in `effects` (and each call in the returned list)."""
    dispatch, calls = Dispatch(), []

    @dispatch.on("teetime.booking.created")
    async def record(session: AsyncSession, env) -> None:  # noqa: ANN001
        calls.append(env.event_id)
        if before is not None:
            await before(env)
        await session.execute(insert(effects).values(event_id=env.event_id, n=1).on_conflict_do_update(
            index_elements=["event_id"], set_={"n": effects.c.n + 1}))

    return EventConsumer(name=name, topics=["teetime.events"], handler=dispatch, handles=dispatch.types,
                         topic_names=topics, sessionmaker=async_sessionmaker(engine), producer=producer,
                         backoff=0.01, max_records=max_records), calls


def metric(name: str, consumer: str) -> float:
    return REGISTRY.get_sample_value(name, {"consumer": consumer}) or 0.0


async def test_no_message_stops_a_partition(engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames,
                                            producer: AIOKafkaProducer) -> None:
    """2 MB of non-JSON, 2 MB and 1 KB of random bytes, an event over its topic's limit and a valid event, all on
    one key: the first four are dead-lettered (the large ones as their first bytes and size), the last applies."""
    big = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=8 * MIB, acks="all")
    await big.start()
    topic = created_topics("teetime.events")
    key = b"ayesha.naidoo@fairwaygolf.co.za"
    junk, noise, small = b"<html>" + b"x" * (2_000_000 - 6), os.urandom(2_000_000), b"\xff" + os.urandom(1000)
    over_limit = booking("too-big", notes="n" * (300 * 1024))
    try:
        for value in (junk, noise, small, over_limit, booking("after")):
            await big.send_and_wait(topic, value, key=key, headers=[("tenant_id", b"\xff\xfe")])
    finally:
        await big.stop()
    consumer, _ = recording_consumer(engine, created_topics, producer, name="no-stop")
    await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
    try:
        await wait_for(lambda: _effects_are(engine, {"after": 1}), what="the event after the poison applied")
        letters = await wait_for(lambda: _letters(kafka_bootstrap, created_topics, 4), what="4 dead letters")
        assert consumer.problem() is None
    finally:
        await consumer.stop()
    by_offset = sorted(letters, key=lambda d: int(d.original_offset))
    assert [d.kind for d in by_offset] == ["oversized", "oversized", "malformed", "oversized"]
    for letter, original in zip(by_offset[:2], (junk, noise), strict=True):
        assert letter.truncated and letter.original_size >= len(original)
        assert letter.value == original[:HEAD_BYTES]
        assert "event of 2000000 bytes is over the 262144-byte limit" in letter.reason
    assert not by_offset[2].truncated and by_offset[2].value == small
    whole = by_offset[3]
    assert not whole.truncated and whole.value == over_limit  # under the DLQ's own limit: kept whole, replayable
    assert await replay(producer, by_offset[:2]) == 0  # first bytes are not the event: never republished


async def test_a_stuck_consumer_says_so_and_logs_its_failure_once(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A service started earlier in this process (cache_logger_on_first_use) may have bound the consumer module's
    # logger to its own processors; a fresh one sees capture_logs.
    monkeypatch.setattr(consumer_module, "log", structlog.get_logger("fairway.consumer"))
    stuck = asyncio.Event()
    stuck.set()

    async def wait_for_read_model(env) -> None:  # noqa: ANN001
        if stuck.is_set():
            raise Retryable("the profile is not known yet")

    consumer, _ = recording_consumer(engine, created_topics, producer, name="stuck", before=wait_for_read_model)
    sent = await producer.send_and_wait(created_topics("teetime.events"), booking("waits"), key=b"k")
    errors_before = metric("fairway_consumer_loop_errors_total", "stuck")
    with capture_logs() as logs:
        await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
        try:
            problem = await wait_for(lambda: _problem(consumer), what="the consumer to report it is stuck")
            assert consumer.group_id in problem
            assert f"{sent.topic}/{sent.partition}" in problem and "the profile is not known yet" in problem
            await asyncio.sleep(2)
            failures = metric("fairway_consumer_loop_errors_total", "stuck") - errors_before
            assert failures >= 5
            assert metric("fairway_consumer_stalled", "stuck") == 1
            stuck.clear()
            await wait_for(lambda: _effects_are(engine, {"waits": 1}), what="the event applied once unblocked")
            assert consumer.problem() is None and metric("fairway_consumer_stalled", "stuck") == 0
        finally:
            await consumer.stop()
    failing_lines = [e for e in logs if "fail" in e["event"] or "error" in e["event"]]
    assert len(failing_lines) == 1, failing_lines  # not one line (and traceback) per retry


async def test_a_batch_longer_than_the_poll_interval_rejoins_and_catches_up_once(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer
) -> None:
    """The first batch takes 6 s against a 4 s poll interval while the next one waits its turn: the member leaves
    the group mid-batch and its commit is refused. It rejoins, paces itself with smaller batches and catches up;
    the inbox keeps every effect single."""
    async def slow(env) -> None:  # noqa: ANN001
        await asyncio.sleep(0.5)

    topic = created_topics("teetime.events")
    ids = [f"slow-{i:02}" for i in range(30)]
    sent = [await producer.send_and_wait(topic, booking(i), key=b"one-key") for i in ids]
    tp = TopicPartition(topic, sent[0].partition)
    consumer, calls = recording_consumer(engine, created_topics, producer, name="slow", before=slow, max_records=12)
    lost_before = metric("fairway_consumer_commits_lost_total", "slow")
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=created_topics.group("slow"),
                             enable_auto_commit=False)
    await probe.start()
    await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500,
                         max_poll_interval_ms=4000)
    try:
        await wait_for(lambda: _committed_is(probe, tp, sent[-1].offset + 1), timeout=120,
                       what="the group committed to the end")
    finally:
        await consumer.stop()
        await probe.stop()
    assert metric("fairway_consumer_commits_lost_total", "slow") - lost_before >= 1  # it was expelled
    assert await effect_counts(engine) == {i: 1 for i in ids}
    assert sorted(calls) == ids  # the re-delivered events never reached the handler twice


async def _effects_are(engine: AsyncEngine, expected: dict[str, int]) -> bool:
    return await effect_counts(engine) == expected


async def _letters(bootstrap: str, topics: TopicNames, n: int) -> list:
    letters = await read_dead_letters(bootstrap, [topics.dlq("teetime.events")], timeout=5)
    return letters if len(letters) >= n else []


async def _problem(consumer: EventConsumer) -> str | None:
    return consumer.problem()


async def _committed_is(probe: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> bool:
    return await probe.committed(tp) == offset
