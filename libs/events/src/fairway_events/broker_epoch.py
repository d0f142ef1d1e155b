"""Noticing a broker that lost what it held, and repairing what the service put there.

Tansu in memory (`make up`) keeps nothing across a restart, and a rebuilt cluster is as empty: every topic, message
and committed offset is gone. Consumers find their way back by themselves (no committed offset: from the earliest),
but events the outbox relay had published and marked done, and that not every reader had read, are lost with the
broker, and topics come back only by the broker's auto-create (with its default partitions, without the
catalogue's settings).

Each service keeps a marker topic of its own on the broker (`fairway.epoch.<service>`, never read or written, so
nothing but this module creates it). When the marker is missing the broker is a new one: the service creates the
catalogue's topics again and `on_lost(last_seen)` runs, where the chassis makes the relay publish again the rows it
published since shortly before the broker was last seen whole (readers' inboxes drop what they had). The relay
asks `verify()` before it publishes, so nothing reaches a new broker ahead of what the old one lost.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter

from fairway_events.catalogue import TopicNames
from fairway_events.kafka import create_topics

log = structlog.get_logger("fairway.broker")

BROKERS_LOST = Counter("fairway_broker_lost_total", "Times the broker was found empty (restarted without its data)",
                       ["service"])

LostHook = Callable[[datetime], Awaitable[None]]


class BrokerEpoch:
    def __init__(self, producer: AIOKafkaProducer, bootstrap: str, topics: TopicNames, service: str, *,
                 on_lost: LostHook | None = None, max_age: float = 0.5) -> None:
        self.producer = producer
        self.bootstrap = bootstrap
        self.topics = topics
        self.service = service
        self.on_lost = on_lost
        self.max_age = max_age  # a verification this fresh is taken as is (a broker takes longer to restart)
        self.marker = f"{topics.prefix}fairway.epoch.{service}"
        self.last_seen: datetime | None = None  # when the marker was last there
        self._verified_at = 0.0  # monotonic
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Create the catalogue's topics and the marker (at start, and on a new broker)."""
        await create_topics(self.bootstrap, self.topics, extra=[(self.marker, 1)])

    def invalidate(self) -> None:
        """The next `verify()` asks the broker (after a failed send: the broker may be a new one by now)."""
        self._verified_at = 0.0

    async def verify(self) -> bool:
        """Whether the broker was found empty (and repaired). Asks the broker unless it was asked very recently."""
        if time.monotonic() - self._verified_at < self.max_age:
            return False
        async with self._lock:
            if time.monotonic() - self._verified_at < self.max_age:
                return False
            checked = time.monotonic()
            metadata = await self.producer.client.fetch_all_metadata()
            now = datetime.now(UTC)
            if self.marker in metadata.topics():
                self.last_seen = now
                self._verified_at = checked
                return False
            lost_since = self.last_seen
            await self.ensure()
            if lost_since is not None:
                BROKERS_LOST.labels(self.service).inc()
                log.warning("the broker lost its topics (restarted empty): topics created again, republishing",
                            service=self.service, last_seen=lost_since.isoformat())
                if self.on_lost is not None:
                    await self.on_lost(lost_since)
            self.last_seen = now
            self._verified_at = checked
            return lost_since is not None

    async def watch(self, interval: float = 2.0) -> None:
        """Verify every `interval` seconds (for a service whose relay is idle or elsewhere); never raises."""
        while True:
            try:
                await self.verify()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the next round tries again
                log.debug("broker not verified", service=self.service, error=repr(exc))
            await asyncio.sleep(interval)
