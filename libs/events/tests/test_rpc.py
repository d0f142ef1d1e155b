import asyncio

import pytest
from faststream.kafka import KafkaBroker

from fairway_events import TopicNames
from fairway_events.kafka import make_producer
from fairway_events.rpc import (
    RemoteError,
    RequestRejected,
    RpcClient,
    RpcServer,
    RpcTimeout,
    UnknownOperation,
)


async def test_request_reply_with_typed_errors_and_timeout(kafka_bootstrap: str, created_topics: TopicNames) -> None:
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    server = RpcServer("ai-gateway", "crm.ai.requests", created_topics, producer=producer)

    @server.operation("echo")
    async def echo(tenant: str, payload: dict) -> dict:
        return {"tenant": tenant, "echo": payload["text"]}

    @server.operation("reject")
    async def reject(tenant: str, payload: dict) -> dict:
        raise RequestRejected("query too long", detail={"field": "query"})

    @server.operation("slow")
    async def slow(tenant: str, payload: dict) -> dict:
        await asyncio.sleep(3)
        return {}

    broker = KafkaBroker(kafka_bootstrap, logger=None)
    server.attach(broker)
    await broker.start()
    client = RpcClient(kafka_bootstrap, producer, created_topics)
    await client.start()
    try:
        await asyncio.sleep(1.5)  # the server's consumer group settles (it reads from 'latest')
        results = await asyncio.gather(*[
            client.request("crm.ai.requests", "echo", f"club-{i}", {"text": f"hi {i}"}, timeout=15) for i in range(20)
        ])
        assert results == [{"tenant": f"club-{i}", "echo": f"hi {i}"} for i in range(20)]
        with pytest.raises(RemoteError) as err:
            await client.request("crm.ai.requests", "reject", "club-a", {}, timeout=10)
        assert err.value.type == "RequestRejected" and err.value.detail == {"field": "query"}
        with pytest.raises(UnknownOperation):
            await client.request("crm.ai.requests", "nope", "club-a", {}, timeout=10)
        with pytest.raises(RpcTimeout):
            await client.request("crm.ai.requests", "slow", "club-a", {}, timeout=0.5)
    finally:
        await client.stop()
        await broker.stop()
        await producer.stop()
