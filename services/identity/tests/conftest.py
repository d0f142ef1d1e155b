"""Fixtures shared by the identity tests: publish upstream events, wait for them to be applied, read tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from fairway_events import TopicNames
from fairway_testkit import RunningService, send_upstream, wait_for


class Upstream:
    """Publishes upstream events the way SCL, TeeTime and Messaging do; returns their ids."""

    def __init__(self, producer: AIOKafkaProducer, topics: TopicNames) -> None:
        self.producer = producer
        self.topics = topics

    async def send(
        self,
        event_type: str,
        tenant: str,
        identity: dict[str, Any],
        payload: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
        at: datetime | None = None,
        key: str | None = None,
    ) -> str:
        return await send_upstream(
            self.producer,
            self.topics,
            event_type,
            tenant,
            identity,
            payload,
            event_id=event_id,
            at=at,
            key=key,
        )


class Db:
    """Reads a running identity service's database."""

    async def rows(self, svc: RunningService, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with svc.runtime.engine.connect() as conn:
            return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]

    async def applied(self, svc: RunningService, *event_ids: str, timeout: float = 90) -> None:
        """Wait until identity has applied (or skipped) every one of these events."""
        want = set(event_ids)

        async def check() -> bool:
            got = await self.rows(
                svc, "SELECT event_id FROM event_log WHERE event_id = ANY(:ids)", ids=list(want)
            )
            return {r["event_id"] for r in got} == want

        await wait_for(check, timeout=timeout, what=f"{len(want)} events applied")

    async def outbox(self, svc: RunningService, *types: str) -> list[dict[str, Any]]:
        import json

        got = await self.rows(svc, "SELECT event_type, key, body FROM event_outbox ORDER BY id")
        return [
            {"type": r["event_type"], "key": r["key"], **json.loads(r["body"])["payload"]}
            for r in got
            if not types or r["event_type"] in types
        ]


@pytest.fixture
def upstream(producer: AIOKafkaProducer, topics: TopicNames) -> Upstream:
    return Upstream(producer, topics)


@pytest.fixture
def db() -> Db:
    return Db()
