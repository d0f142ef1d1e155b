"""A Tansu restart mid-stream: the broker forgets every topic and offset. The consumer and producer reconnect by
themselves, the topic comes back on the first produce, and the stream goes on with every effect once."""
import asyncio
import tempfile
from pathlib import Path

from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from fairway_events import TopicNames
from fairway_events.kafka import create_topics, make_producer
from fairway_localinfra import free_port, start_tansu
from fairway_testkit import wait_for

from .test_consumer import effect_counts
from .test_consumer_robustness import booking, recording_consumer


async def test_the_stream_goes_on_after_a_broker_restart(engine: AsyncEngine) -> None:
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"fairway-restart-tansu-{port}.log"
    broker = start_tansu(port, log)
    bootstrap = f"127.0.0.1:{port}"
    names = TopicNames("restart.")
    producer = make_producer(bootstrap, client_id="fairway-tests-restart")
    try:
        await create_topics(bootstrap, names)
        await producer.start()
        consumer, calls = recording_consumer(engine, names, producer, name="restart")
        await consumer.start(bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
        try:
            before = [f"before-{i}" for i in range(5)]
            for eid in before:
                await producer.send_and_wait(names("teetime.events"), booking(eid), key=b"iain")
            await wait_for(lambda: _applied(engine, before), what="events before the restart")

            broker.kill()  # SIGKILL: Tansu keeps topics and offsets in memory only
            broker.wait(10)
            await asyncio.sleep(2)
            broker = start_tansu(port, log)

            after = [f"after-{i}" for i in range(5)]
            for eid in after:  # the producer reconnects; the first produce creates the topic again
                await _send_until_accepted(producer, names("teetime.events"), booking(eid))
            await wait_for(lambda: _applied(engine, before + after), timeout=120, what="events after the restart")
            await asyncio.sleep(2)
            assert await effect_counts(engine) == {eid: 1 for eid in before + after}
            assert sorted(calls) == sorted(before + after)  # nothing handled twice
            assert consumer.problem() is None
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
        broker.kill()
        broker.wait(10)


async def _send_until_accepted(producer, topic: str, value: bytes) -> None:  # noqa: ANN001
    """As the outbox relay does: a send refused while the broker comes back is sent again (the row stays)."""
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        try:
            await asyncio.wait_for(producer.send_and_wait(topic, value, key=b"iain"), 30)
            return
        except (KafkaError, TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)


async def _applied(engine: AsyncEngine, ids: list[str]) -> bool:
    return set(await effect_counts(engine)) >= set(ids)
