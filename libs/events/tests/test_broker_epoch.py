"""A broker that comes back empty (Tansu restarted): the relay's service notices by its marker topic, creates the
catalogue's topics again and publishes again what it had
published shortly before, ahead of anything new, so a reader that had not read it yet still gets it, in order."""
import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import OutboxRelay, TopicNames, outbox
from fairway_events.broker_epoch import BrokerEpoch
from fairway_events.kafka import make_producer
from fairway_localinfra import free_port, start_tansu
from fairway_testkit import wait_for

from .test_outbox import send_request


async def _bodies(bootstrap: str, topic: str) -> list[str]:
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await c.start()
    try:
        out: list[str] = []
        for _ in range(3):
            for recs in (await c.getmany(timeout_ms=500)).values():
                out += [r.value.decode() for r in recs]
        return out
    finally:
        await c.stop()


async def test_a_new_empty_broker_gets_the_topics_and_what_the_old_one_lost_first(engine: AsyncEngine) -> None:
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"fairway-epoch-tansu-{port}.log"
    broker = start_tansu(port, log)
    bootstrap = f"127.0.0.1:{port}"
    names = TopicNames("epoch.")
    topic = names("crm.messaging.send_requests")
    producer = make_producer(bootstrap, client_id="fairway-tests-epoch")
    relay = OutboxRelay(engine, producer, names, service="epoch-test", listen_interval=0.2)
    lost: list[datetime] = []

    async def on_lost(last_seen: datetime) -> None:
        lost.append(last_seen)
        await relay.rewind(last_seen - timedelta(seconds=60))

    relay.epoch = BrokerEpoch(producer, bootstrap, names, "epoch-test", on_lost=on_lost)
    sm = async_sessionmaker(engine, expire_on_commit=False)
    task = None
    try:
        await producer.start()
        await relay.epoch.ensure()
        assert not await relay.epoch.verify()  # the first broker: nothing lost
        task = asyncio.create_task(relay.run())
        async with sm() as s, s.begin():
            await outbox.append(s, *[send_request(i, "p1") for i in range(5)])

        async def published(n: int) -> list[str] | None:
            bodies = [b for b in await _bodies(bootstrap, topic) if '"body":"#' in b]
            return bodies if len(bodies) >= n else None

        await wait_for(lambda: published(5), timeout=60, what="the first rows on the first broker")

        broker.kill()  # Tansu keeps everything in memory: the new one knows no topic, message or offset
        broker.wait(10)
        await asyncio.sleep(1)
        broker = start_tansu(port, log)
        async with sm() as s, s.begin():
            await outbox.append(s, *[send_request(i, "p1") for i in range(5, 8)])

        bodies = await wait_for(lambda: published(8), timeout=90, what="every row on the new broker")
        assert len(lost) == 1
        order = [int(b.split('"body":"#')[1].split('"')[0]) for b in bodies]
        assert order == list(range(8)), order  # what was lost first, then the new rows, each once
        # Topics nobody has asked for yet are back with the catalogue's partitions (the broker's auto-create would
        # give 4). One a reader asked for first (this test's, while the broker came back) keeps the broker's:
        # Tansu cannot add partitions, and every producer uses the partitions a topic has, so keys stay ordered.
        metadata = await producer.client.fetch_all_metadata()
        assert len(metadata.partitions_for_topic(names("crm.identity"))) == 6
        assert len(metadata.partitions_for_topic(names("crm.campaigns"))) == 3
        assert not await relay.epoch.verify()  # one broker loss is one rewind
    finally:
        if task is not None:
            relay.stop()
            await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        broker.kill()
        broker.wait(10)
