"""Transactional outbox: events are rows written in the same transaction as the state they describe;
a relay publishes committed rows to Kafka in order, then marks them published (at-least-once).
"""
from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import Counter, Gauge
from pydantic import BaseModel
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from fairway_events.broker_epoch import BrokerEpoch
from fairway_events.catalogue import TopicNames
from fairway_events.envelope import TOMBSTONE, Envelope, new_event_id, utcnow
from fairway_events.outbox_sql import Sql, insert_from_json, insert_from_select, specs_of
from fairway_events.registry import EventRegistry, registry
from fairway_events.tables import OUTBOX, OUTBOX_CHANNEL, OUTBOX_TRIGGER, event_tables
from fairway_events.tracing import current_trace_headers

log = structlog.get_logger("fairway.outbox")

PUBLISHED = Counter("fairway_outbox_published_total", "Events published by the outbox relay", ["service"])
LAG = Gauge("fairway_outbox_unpublished", "Unpublished outbox rows seen by the relay's last poll", ["service"])

_outbox_table, _ = event_tables(MetaData())
_partitioner = DefaultPartitioner()
# The relay's statements run on the asyncpg connection itself: SQLAlchemy's row processing cost more than the
# rest of the relay's Python per row. Each statement commits on its own.
_FETCH = (
    f"SELECT id, topic, key, body, headers::text AS headers FROM {OUTBOX} "  # noqa: S608 (constant table name)
    "WHERE published_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
)
_MARK = f"UPDATE {OUTBOX} SET published_at = now() WHERE id = ANY($1::bigint[])"  # noqa: S608
_REWIND = text(f"UPDATE {OUTBOX} SET published_at = NULL WHERE published_at >= :since")  # noqa: S608


async def _driver(conn: AsyncConnection) -> Any:
    return (await conn.get_raw_connection()).driver_connection


class Outbox:
    """Appends events to the service's outbox inside the caller's transaction."""

    def __init__(self, reg: EventRegistry = registry, table: Table = _outbox_table) -> None:
        self.registry = reg
        self.table = table

    def row(self, env: Envelope, *, trace_headers: dict[str, str] | None = None) -> dict:
        spec = self.registry.spec_for(type(env.payload))
        return {
            "event_id": env.event_id,
            "tenant_id": env.tenant_id,
            "topic": spec.topic,
            "key": env.aggregate_id,
            "event_type": env.event_type,
            "version": env.version,
            "occurred_at": env.occurred_at,
            "body": env.to_wire().decode(),
            "headers": {**env.wire_headers(), **(trace_headers if trace_headers is not None else current_trace_headers())},
        }

    def tombstone_row(self, tenant_id: str, topic: str, key: str) -> dict:
        """A null record for `key` on a compacted state topic: readers drop the entity, and the broker the key.
        Stored with an empty body; the relay sends it as a null value, with its event id in the headers."""
        event_id = new_event_id()
        return {
            "event_id": event_id, "tenant_id": tenant_id, "topic": topic, "key": key,
            "event_type": TOMBSTONE, "version": 1, "occurred_at": utcnow(), "body": "",
            "headers": {"event_id": event_id, "event_type": TOMBSTONE, "version": "1", "tenant_id": tenant_id,
                        **current_trace_headers()},
        }

    async def append_tombstones(self, session: AsyncSession, tenant_id: str, topic: str, keys: Sequence[str]) -> None:
        if keys:
            rows = [self.tombstone_row(tenant_id, topic, k) for k in keys]
            await session.execute(text(self.insert_json_sql("outbox")), {"outbox": orjson.dumps(rows).decode()})

    async def append(self, session: AsyncSession, *events: Envelope) -> None:
        await self.append_many(session, events)

    async def append_many(self, session: AsyncSession, events: Sequence[Envelope]) -> None:
        """Many envelopes in one statement, in the given order (their ids follow it)."""
        if events:
            await session.execute(text(self.insert_json_sql("outbox")), {"outbox": self.json_rows(events)})

    def insert_json_sql(self, param: str) -> str:
        """The statement `append_many` runs, reading its rows from the JSON bound to `:param` (`json_rows`): for a
        repository that writes its state and its events in one statement (`WITH o AS (<this>) ...`)."""
        return insert_from_json(self.table.name, param)

    def json_rows(self, events: Sequence[Envelope]) -> str:
        trace_headers = current_trace_headers()
        return orjson.dumps([self.row(e, trace_headers=trace_headers) for e in events]).decode()

    async def append_select(
        self,
        session: AsyncSession,
        *,
        event: type[BaseModel] | Mapping[str, type[BaseModel]],
        rows: str,
        order_by: str,
        payload: Mapping[str, Any],
        tenant_id: str,
        aggregate_id: str | Sql,
        occurred_at: datetime,
        source: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """One event per row of the SELECT `rows`, built by PostgreSQL: for changes too big to ship through Python
        (a segment refresh moving 100,000 people). Returns the events written.

        `payload` is the payload as a document whose `Sql` values are per-row expressions over the columns of
        `rows`; the envelope (UUIDv7 ids ascending in `order_by` order, type, version, tenant, time, source) and the
        headers (routing facts, current trace) are the ones `append` writes. `event` is a payload model, or
        {SQL condition: model} to choose per row (the models must share topic and version). `params` binds the
        SELECT's own parameters. The payload is not validated per row: the caller's test decodes what it writes.
        """
        sql, bound = insert_from_select(
            self.table.name,
            rows=rows,
            order_by=order_by,
            specs=specs_of(self.registry, event),
            tenant_id=tenant_id,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at,
            source=source,
            payload=payload,
            headers=current_trace_headers(),
        )
        res = await session.execute(text(sql), {**(params or {}), **bound})
        return int(res.rowcount or 0)  # type: ignore[attr-defined]


outbox = Outbox()


class OutboxRelay:
    """Publishes a service's committed outbox rows in id order.

    One relay per service holds a PostgreSQL advisory lock, so replicas never publish the same rows in
    parallel or out of order. Rows are marked published only after the broker acknowledged them (acks=all);
    a crash in between publishes them again, which consumers' inboxes absorb.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        topics: TopicNames,
        *,
        service: str,
        batch_size: int = 2000,
        idle_interval: float = 0.05,
        listen_interval: float = 2.0,
        epoch: BrokerEpoch | None = None,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.topics = topics
        self.service = service
        self.batch_size = batch_size
        self.idle_interval = idle_interval  # polling, when the outbox cannot notify
        self.listen_interval = listen_interval  # safety-net polling while listening for notifications
        self._wake = asyncio.Event()
        self.lock_key = zlib.crc32(f"fairway-outbox:{service}".encode())
        self._stopping = asyncio.Event()
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        # Asked before each publish whether the broker is still the one that holds what was published before.
        self.epoch = epoch

    async def publish_once(self, conn: AsyncConnection) -> int:
        """One batch: fetch, send, wait for the acknowledgements, mark published. Returns the rows published."""
        raw = await _driver(conn)
        rows = await self._fetch(raw)
        if rows:
            await asyncio.gather(*await self._send(rows))
            await self._mark(raw, [r["id"] for r in rows])
        return len(rows)

    async def drain(self, conn: AsyncConnection, max_batches: int = 20) -> int:
        """Publish until a batch comes back short (or `max_batches`), pipelined: while a batch's acknowledgements
        are awaited, the batch before it is marked published and the next one fetched. A batch is sent only once the
        one before it is acknowledged, so a failed send never lets a later row overtake an earlier one. Returns the
        rows published."""
        raw = await _driver(conn)
        total = batches = 0
        acked: list[int] = []  # acknowledged, not yet marked
        rows = await self._fetch(raw)
        while rows:
            ids = [r["id"] for r in rows]
            batches += 1
            acks = asyncio.gather(*await self._send(rows))
            try:
                if acked:
                    await self._mark(raw, acked)
                    total += len(acked)
                # The next batch starts after the one in flight (still unpublished). A row that commits late with a
                # lower id is found by the next drain, which starts from the lowest unpublished id: `max_batches`
                # bounds how long it can wait.
                more = len(rows) == self.batch_size and batches < max_batches
                rows = await self._fetch(raw, after=ids[-1]) if more else []
            except BaseException:
                await asyncio.gather(acks, return_exceptions=True)
                raise
            await acks
            acked = ids
        if acked:
            await self._mark(raw, acked)
            total += len(acked)
        return total

    async def _fetch(self, raw: Any, after: int = 0) -> list[Any]:
        rows = await raw.fetch(_FETCH, after, self.batch_size)
        LAG.labels(self.service).set(len(rows))
        return list(rows)

    async def _send(self, rows: list[Any]) -> list[asyncio.Future[Any]]:
        """Hand the producer whole batches per partition (per-message sends cost 5x more); their ack futures."""
        groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for r in rows:
            topic = self.topics(r["topic"])
            parts = self._partitions.get(topic)
            if parts is None:
                parts = self._partitions[topic] = sorted(await self.producer.partitions_for(topic))
            key = r["key"].encode()
            partition = self._partition_of.get((topic, key))
            if partition is None:  # murmur2 in Python is slow; aggregates repeat, so remember them
                if len(self._partition_of) > 100_000:
                    self._partition_of.clear()
                partition = self._partition_of[(topic, key)] = _partitioner(key, parts, parts)
            groups[(topic, partition)].append((key, r))
        futures = []
        for (topic, partition), items in groups.items():
            batch = self.producer.create_batch()
            for key, r in items:
                headers = [(k, str(v).encode()) for k, v in orjson.loads(r["headers"]).items()]
                value = r["body"].encode() or None  # an empty body is a state topic's tombstone
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    futures.append(await self.producer.send_batch(batch, topic, partition=partition))
                    batch = self.producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=headers)
            futures.append(await self.producer.send_batch(batch, topic, partition=partition))
        return futures

    async def _mark(self, raw: Any, ids: list[int]) -> None:
        await raw.execute(_MARK, ids)
        PUBLISHED.labels(self.service).inc(len(ids))

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self.engine.connect() as lock_conn:
                    got = (await lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.lock_key})).scalar()
                    await lock_conn.commit()
                    if not got:
                        await self._sleep(1.0)  # another replica relays; check again later
                        continue
                    listener = await self._listen(lock_conn)
                    try:
                        async with self.engine.connect() as conn:
                            while not self._stopping.is_set():
                                if self.epoch is not None:
                                    await self.epoch.verify()  # a new broker first gets what the old one lost
                                if await self.drain(conn) or listener is None:
                                    # Busy (or no notifications): let rows gather for one interval, as a poller
                                    # would, so batches stay large (waking on every commit costs more per row).
                                    await self._sleep(self.idle_interval)
                                else:
                                    await self._wait_for_rows()
                    finally:
                        if listener is not None:
                            await listener[0].remove_listener(OUTBOX_CHANNEL, listener[1])
            except asyncio.CancelledError:
                raise
            except Exception:  # broker or database away: keep the rows, try again
                log.exception("outbox relay error; retrying", service=self.service)
                self.forget_partitions()  # the topics may come back with other partitions
                if self.epoch is not None:
                    self.epoch.invalidate()
                await self._sleep(1.0)

    def forget_partitions(self) -> None:
        self._partitions.clear()
        self._partition_of.clear()

    async def rewind(self, since: datetime) -> int:
        """Publish again, in order, every row published since `since`: the broker lost them (it came back empty)
        before every reader had read them. Readers' inboxes drop those they had. Returns the rows."""
        self.forget_partitions()
        async with self.engine.begin() as conn:
            res = await conn.execute(_REWIND, {"since": since})
        self._wake.set()
        rows = int(res.rowcount or 0)  # type: ignore[attr-defined]
        log.warning("outbox rewound: publishing again what the broker lost", service=self.service, rows=rows,
                    since=since.isoformat())
        return rows

    async def _listen(self, conn: AsyncConnection) -> tuple[Any, Callable[..., None]] | None:
        """LISTEN for committed outbox inserts on the lock's connection when the outbox has its notify trigger:
        then an idle relay wakes on new rows and polls only as a safety net. Returns what to remove afterwards."""
        has_trigger = (
            await conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = :t)"), {"t": OUTBOX_TRIGGER})
        ).scalar()
        await conn.commit()
        if not has_trigger:
            return None
        raw = await _driver(conn)

        def wake(*_: Any) -> None:
            self._wake.set()

        await raw.add_listener(OUTBOX_CHANNEL, wake)
        return raw, wake

    async def _wait_for_rows(self) -> None:
        """Until a notification says rows were committed, or the safety-net interval passes."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self.listen_interval)
        except TimeoutError:
            pass
        self._wake.clear()  # before the next poll, so rows committed from here on wake the one after

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
