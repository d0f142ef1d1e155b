"""Kafka clients with the settings Fairway relies on, and topic creation from the catalogue."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from fairway_events.catalogue import TopicNames


def make_producer(bootstrap: str, *, client_id: str = "fairway") -> AIOKafkaProducer:
    # acks=all for durability; no idempotent producer (Tansu rejects it): consumers de-duplicate instead.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=30000,
    )


async def create_topics(bootstrap: str, topics: TopicNames, *, extra: list[tuple[str, int]] | None = None) -> list[str]:
    """Create every catalogue topic (and its DLQ) that does not exist yet. Returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="fairway-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [(n, p) for n, p, _ in topics.all_physical()] + list(extra or [])
        missing = [NewTopic(name=n, num_partitions=p, replication_factor=1,
                            topic_configs=topics.configs(n) if (n, p) not in (extra or []) else {})
                   for n, p in wanted if n not in existing]
        created = []
        for t in missing:  # one at a time: a racing creator must not fail the whole batch
            try:
                await admin.create_topics([t])
                created.append(t.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()


async def wait_for_broker(bootstrap: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)
        finally:
            await admin.close()
