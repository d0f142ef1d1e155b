"""State topics: snapshots and tombstones go out through the outbox and come back typed to a new reader."""

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import OutboxRelay, TopicNames, outbox, registry
from fairway_events.catalogue import BY_NAME
from fairway_events.consumer import Dispatch, EventConsumer
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot
from fairway_events.contracts.state import ProfileState, StateTombstone
from fairway_events.envelope import TOMBSTONE
from fairway_events.kafka import make_producer


def test_state_topics_are_compacted_and_kept() -> None:
    names = TopicNames("x.")
    for topic in ("crm.identity.state", "crm.timeline.state", "crm.scoring.state", "crm.segmentation.state"):
        assert BY_NAME[topic].compacted
        assert names.configs(f"x.{topic}") == {"retention.ms": "-1", "cleanup.policy": "compact"}
    assert names.configs("x.crm.identity")["cleanup.policy"] == "delete"


def _snapshot(pid: str, email: str) -> ProfileState:
    return ProfileState(
        profile=ProfileSnapshot(profileId=pid, status="ACTIVE", identities=Identities(email=[email]),
                                attributes=Attributes(firstName="Thandi"), consent=Consent(emailOptIn=True)),
        revision=3, updatedAt=datetime(2026, 12, 1, tzinfo=UTC),
    )


async def test_a_new_reader_gets_snapshots_and_tombstones(engine: AsyncEngine, kafka_bootstrap: str,
                                                          created_topics: TopicNames) -> None:
    sm = async_sessionmaker(engine)
    async with sm() as s, s.begin():
        await outbox.append_many(s, [
            registry.envelope(_snapshot("p-1", "thandi@fairwaygolf.co.za"), tenant_id="club-a", aggregate_id="p-1",
                              source="identity"),
            registry.envelope(_snapshot("p-2", "sipho@fairwaygolf.co.za"), tenant_id="club-a", aggregate_id="p-2",
                              source="identity"),
        ])
        await outbox.append_tombstones(s, "club-a", "crm.identity.state", ["p-2"])

    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(engine, producer, created_topics, service="test")
    async with engine.connect() as conn:
        assert await relay.publish_once(conn) == 3
    await producer.stop()

    # The raw records: the tombstone is a null value with its event id and tenant in the headers.
    c = AIOKafkaConsumer(created_topics("crm.identity.state"), bootstrap_servers=kafka_bootstrap,
                         auto_offset_reset="earliest", enable_auto_commit=False)
    await c.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + 15
        while len(records) < 3 and asyncio.get_running_loop().time() < deadline:
            for recs in (await c.getmany(timeout_ms=300)).values():
                records.extend(recs)
    finally:
        await c.stop()
    assert sorted((r.key, r.value is None) for r in records) == [(b"p-1", False), (b"p-2", False), (b"p-2", True)]

    # Through the consumer: typed events, the tombstone as StateTombstone, in key order per partition.
    seen: list[tuple[str, str]] = []
    dispatch = Dispatch()

    @dispatch.on("profile.state", TOMBSTONE)
    async def handle(session, env) -> None:  # noqa: ANN001
        payload = env.payload
        seen.append((env.event_type, payload.key if isinstance(payload, StateTombstone) else payload.profile.profileId))

    consumer = EventConsumer(name="reader", topics=["crm.identity.state"], handler=dispatch, handles=dispatch.types,
                             topic_names=created_topics)
    consumer.bind(sm, None)  # type: ignore[arg-type]
    await consumer.process(records)
    assert sorted(seen) == [("profile.state", "p-1"), ("profile.state", "p-2"), (TOMBSTONE, "p-2")]
    assert seen.index(("profile.state", "p-2")) < seen.index((TOMBSTONE, "p-2"))
