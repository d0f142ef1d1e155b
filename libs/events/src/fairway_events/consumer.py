"""The consuming side of every service: decode, validate, de-duplicate, handle, or dead-letter.

One batch from Kafka is handled in one database transaction (inbox claim + effects + outbox rows).
If the batch fails it is retried; if it keeps failing, its events are retried one by one so a single
poison event goes to the DLQ and its neighbours still take effect. Offsets are committed only after
every event of the batch is either committed or dead-lettered, so nothing is lost.

The loop is pipelined: while batch N's transaction is in PostgreSQL, batch N+1 is fetched and decoded, so
Python's work and the database's overlap instead of taking turns. Batches still apply strictly in order, and
each batch commits exactly its own offsets (never those of a batch fetched but not yet applied).

No message stops a partition: whatever cannot be applied (too large for its topic, not JSON, not valid, failing
its handler) is dead-lettered and the partition moves on. A batch is bounded by records and by time: when one
takes longer than a quarter of the poll interval the next ones are smaller, so a slow handler is never expelled
from its group by its own batches. A consumer that cannot make progress says so (`problem()`, read by
`/readyz`), counts its loop errors and logs a repeated failure once a minute, not once a second.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from faststream.kafka import KafkaBroker
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_events import inbox
from fairway_events.catalogue import TopicNames
from fairway_events.dlq import DeadLetters
from fairway_events.envelope import TOMBSTONE, DecodeError, Envelope, event_type_of, parse_json
from fairway_events.registry import EventRegistry, EventRejected, registry
from fairway_events.tracing import consume_span, current_trace_id, headers_to_dict

log = structlog.get_logger("fairway.consumer")

CONSUMED = Counter("fairway_events_consumed_total", "Events handled (first time)", ["consumer"])
DUPLICATES = Counter("fairway_events_duplicates_total", "Events skipped by the inbox", ["consumer"])
DEAD = Counter("fairway_events_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer"])
LOOP_ERRORS = Counter("fairway_consumer_loop_errors_total",
                      "Consumer failures that hold its partitions: loop errors (the batch is fetched again from the "
                      "last committed offsets) and transient failures of a batch (retried)", ["consumer"])
COMMITS_LOST = Counter("fairway_consumer_commits_lost_total",
                       "Offset commits refused because the group rebalanced (the member rejoins)", ["consumer"])
BATCH_LIMIT = Gauge("fairway_consumer_batch_limit", "Records fetched per batch (shrinks for slow batches)",
                    ["consumer"])
STALLED = Gauge("fairway_consumer_stalled", "1 while the consumer cannot make progress", ["consumer"])

# A failure repeated for this long (or twice in a row) means the consumer is stuck, not blinking.
STALL_AFTER = 10.0
LOG_EVERY = 60.0  # a repeated failure is logged once per this many seconds, with its count


@dataclass(frozen=True)
class Delivery:
    envelope: Envelope
    headers: dict[str, str]
    record: ConsumerRecord | None = None


BatchHandler = Callable[[AsyncSession, list[Delivery]], Awaitable[None]]
EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class Retryable(Exception):
    """Raise from a handler for a condition that will pass (e.g. a read model not caught up yet)."""


TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError, OSError, TimeoutError, Retryable)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        # serialization failures and deadlocks are worth another go
        code = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
        if code in {"40001", "40P01"}:
            return True
    return isinstance(exc, TRANSIENT)


class HandlerFailed(Exception):
    pass


@dataclass
class Trouble:
    """Why a consumer is not moving, for `/readyz` and the logs."""

    since: float  # monotonic
    at: datetime
    errors: int
    error: str
    partitions: tuple[str, ...]


class Dispatch:
    """Routes each event of a batch to the function registered for its type, one span per event."""

    def __init__(self) -> None:
        self._handlers: dict[str, EventHandler] = {}

    def on(self, *event_types: str) -> Callable[[EventHandler], EventHandler]:
        def deco(fn: EventHandler) -> EventHandler:
            for t in event_types:
                self._handlers[t] = fn
            return fn

        return deco

    @property
    def types(self) -> set[str]:
        return set(self._handlers)

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            e = d.envelope
            with consume_span(f"handle {e.event_type}", d.headers, tenant_id=e.tenant_id, event_id=e.event_id):
                with structlog.contextvars.bound_contextvars(
                    tenant_id=e.tenant_id, event_id=e.event_id, trace_id=current_trace_id()
                ):
                    await self._handlers[e.event_type](session, e)


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: Iterable[str],
        handler: BatchHandler,
        handles: set[str] | None,
        topic_names: TopicNames,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        producer: AIOKafkaProducer | None = None,
        reg: EventRegistry = registry,
        max_attempts: int = 3,
        backoff: float = 0.1,
        tenants: set[str] | None = None,
        max_records: int = 500,
    ) -> None:
        self.name = name
        self.topics = list(topics)
        self.handler = handler
        self.handles = handles
        self.topic_names = topic_names
        self.registry = reg
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.tenants = tenants
        self.max_records = max_records
        self.limit = max_records  # records per fetch: lowered while batches run long, raised again when quick
        self.batch_budget = 75.0  # seconds a batch may take: a quarter of the poll interval (set by start())
        self.trouble: Trouble | None = None
        self._logged_at = 0.0
        self._logged_error = ""
        self._unlogged = 0
        self._inflight: tuple[str, ...] = ()
        self._stopping = asyncio.Event()
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.Task[None] | None = None
        if sessionmaker is not None and producer is not None:
            self.bind(sessionmaker, producer)

    def bind(self, sessionmaker: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer) -> None:
        """Give the consumer its database and producer (they exist only once the service has started)."""
        self.sessionmaker = sessionmaker
        self.dead_letters = DeadLetters(producer, self.topic_names, self.name)

    @property
    def group_id(self) -> str:
        return self.topic_names.group(self.name)

    def document(self, broker: KafkaBroker) -> None:
        """Declare the subscription on a broker used only for the AsyncAPI document (never started): consuming
        itself is `start()`'s own loop, which FastStream's batch subscriber cannot pipeline."""
        physical = [self.topic_names(t) for t in self.topics]

        @broker.subscriber(*physical, group_id=self.group_id, title=self.name,
                           description=f"events of types {sorted(self.handles) if self.handles else 'all'}")
        async def consume(msg: Any) -> None:  # pragma: no cover - documentation only
            return None

    # -- the loop -----------------------------------------------------------------------------------------
    async def start(self, bootstrap: str, *, session_timeout_ms: int = 10000, heartbeat_interval_ms: int = 1500,
                    client_id: str | None = None, join_timeout: float = 120.0,
                    max_poll_interval_ms: int = 300000) -> None:
        """Join the consumer group and consume until `stop()`; offsets committed after processing."""
        self._stopping = asyncio.Event()
        self.batch_budget = max_poll_interval_ms / 4000
        BATCH_LIMIT.labels(self.name).set(self.limit)
        self._kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id=client_id or self.name,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            max_poll_interval_ms=max_poll_interval_ms,
        )
        self._kafka.subscribe([self.topic_names(t) for t in self.topics], listener=_FinishBeforeRevoke(self))
        try:  # start() returns once the group has given this member its partitions
            await asyncio.wait_for(self._kafka.start(), timeout=join_timeout)
        except TimeoutError:
            await self._kafka.stop()
            raise RuntimeError(
                f"consumer group {self.group_id!r} did not assign partitions within {join_timeout:g}s"
            ) from None
        await self._commit_start()
        self._task = asyncio.create_task(self._loop(), name=f"consumer-{self.name}")

    async def _commit_start(self) -> None:
        """Commit the starting position of partitions the group never committed: the group then shows in
        `list_consumer_groups` (Tansu lists only groups with offsets), so `replay --wait` waits for it too."""
        try:
            fresh = {tp: await self._kafka.position(tp) for tp in self._kafka.assignment()
                     if await self._kafka.committed(tp) is None}
            if fresh:
                await self._kafka.commit(fresh)
        except (KafkaError, IllegalStateError) as exc:  # a rebalance at start: the loop carries on regardless
            log.info("starting offsets not committed", consumer=self.name, error=str(exc))

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=30)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._kafka.stop()
        self._task = None

    async def _loop(self) -> None:
        kafka = self._kafka
        while not self._stopping.is_set():
            try:
                fetched = await kafka.getmany(timeout_ms=50, max_records=self.limit)
                if not fetched:
                    continue
                records = [r for rs in fetched.values() for r in rs]
                offsets = {tp: rs[-1].offset + 1 for tp, rs in fetched.items()}
                decoded = self.decode_batch(records)  # overlaps the previous batch's transaction
                await self.drain()  # batches apply in order
                self._pending = asyncio.create_task(self._apply_and_commit(decoded, offsets))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Whatever failed, the uncommitted offsets are delivered again after a pause; the inbox absorbs
                # the events that had already taken effect.
                self._failed(exc, self._inflight)
                await self._recover()
        await self.drain()

    def problem(self) -> str | None:
        """Why this consumer cannot make progress, naming its group and partitions; None while it can."""
        if self._task is not None and self._task.done() and not self._stopping.is_set():
            exc = None if self._task.cancelled() else self._task.exception()
            return f"group {self.group_id}: consumer loop ended ({exc!r})"
        t = self.trouble
        if t is None or (t.errors < 2 and time.monotonic() - t.since < STALL_AFTER):
            return None
        return (f"group {self.group_id} stuck on {', '.join(t.partitions) or 'its partitions'} since "
                f"{t.at:%H:%M:%S} ({t.errors} failures): {t.error}")

    def _failed(self, exc: BaseException, partitions: tuple[str, ...]) -> None:
        """Count a failure; log it in full when it is new, else once per LOG_EVERY with how often it recurred."""
        LOOP_ERRORS.labels(self.name).inc()
        error = f"{type(exc).__name__}: {exc}"[:500]
        now = time.monotonic()
        if self.trouble is None:
            self.trouble = Trouble(since=now, at=datetime.now(UTC), errors=0, error=error, partitions=partitions)
        self.trouble.errors += 1
        self.trouble.error, self.trouble.partitions = error, partitions or self.trouble.partitions
        STALLED.labels(self.name).set(1 if self.problem() else 0)
        fields = {"consumer": self.name, "group": self.group_id, "partitions": list(partitions),
                  "failures": self.trouble.errors}
        if error != self._logged_error:
            log.error("consumer loop error; resuming from the last committed offsets", exc_info=exc, **fields)
        elif now - self._logged_at >= LOG_EVERY:
            log.error("consumer loop still failing", error=error, repeats=self._unlogged + 1, **fields)
        else:
            self._unlogged += 1
            return
        self._logged_at, self._logged_error, self._unlogged = now, error, 0

    def _progressed(self) -> None:
        if self.trouble is not None:
            log.info("consumer moving again", consumer=self.name, group=self.group_id, failures=self.trouble.errors)
            self.trouble, self._logged_error = None, ""
            STALLED.labels(self.name).set(0)

    def _pace(self, records: int, elapsed: float) -> None:
        """Bound the next batches by time: a batch that took over its budget makes the next ones smaller (before
        the poll interval expels this member), a quick one lets them grow back."""
        if elapsed > self.batch_budget and records > 1:
            self.limit = max(1, int(records * self.batch_budget / elapsed / 2))
            log.warning("batch took longer than its budget; fetching fewer records", consumer=self.name,
                        seconds=round(elapsed, 1), records=records, limit=self.limit)
        elif elapsed < self.batch_budget / 4 and self.limit < self.max_records and records >= self.limit:
            self.limit = min(self.max_records, self.limit * 2)
        BATCH_LIMIT.labels(self.name).set(self.limit)

    async def drain(self) -> None:
        """Wait for the batch in flight (if any) to commit, raising its error."""
        pending = self._pending
        if pending is None:
            return
        try:
            await pending  # the loop and a rebalance may both wait for it
        finally:
            if self._pending is pending:
                self._pending = None

    async def _apply_and_commit(self, decoded: tuple[list[Delivery], list[tuple[ConsumerRecord, str, str]]],
                                offsets: dict[TopicPartition, int]) -> None:
        self._inflight = tuple(sorted(f"{tp.topic}/{tp.partition}@{o}" for tp, o in offsets.items()))
        started = time.monotonic()
        await self.apply(*decoded)
        self._pace(len(decoded[0]) + len(decoded[1]), time.monotonic() - started)
        try:
            await self._kafka.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # This member lost the partitions meanwhile (a rebalance, or it was expelled for a slow batch): its
            # next fetch rejoins the group, and whoever owns them resumes from the last commit, the inbox
            # de-duplicating what this batch already did.
            COMMITS_LOST.labels(self.name).inc()
            log.warning("offsets not committed after a rebalance; rejoining", consumer=self.name,
                        group=self.group_id, error=str(exc))
        self._progressed()

    async def _recover(self) -> None:
        with contextlib.suppress(Exception):
            await self.drain()  # let a batch still in flight finish before going back
        self._pending = None
        errors = self.trouble.errors if self.trouble else 1
        await asyncio.sleep(min(30.0, 0.5 * 2 ** min(errors, 6)))  # 1 s, 2 s, ... 30 s
        for tp in self._kafka.assignment():
            try:
                committed = await self._kafka.committed(tp)
            except KafkaError:
                continue
            if committed is None:
                await self._kafka.seek_to_beginning(tp)
            else:
                self._kafka.seek(tp, committed)

    # -- pipeline ---------------------------------------------------------------------------------------
    def decode(self, record: ConsumerRecord) -> Delivery | None:
        """The typed delivery, or None for a known event type this consumer does not handle."""
        headers = headers_to_dict(record.headers)
        if record.value is None and self.topic_names.compacted(record.topic):
            if self.handles is not None and TOMBSTONE not in self.handles:
                return None
            return Delivery(envelope=self.registry.tombstone(self.topic_names.unprefixed(record.topic),
                                                             record.key.decode() if record.key else None, headers),
                            headers=headers, record=record)
        body = parse_json(record.value)
        event_type = event_type_of(body)
        self.registry.latest(event_type)  # an unknown type is rejected even if we would skip it
        if self.handles is not None and event_type not in self.handles:
            return None  # not ours: no need to pay for validation
        env = self.registry.from_wire(record.value, body, headers)
        header_tenant = headers.get("tenant_id")
        if header_tenant and header_tenant != env.tenant_id:
            raise EventRejected(f"wrong tenant: header says {header_tenant!r}, body says {env.tenant_id!r}")
        if self.tenants is not None and env.tenant_id not in self.tenants:
            raise EventRejected(f"wrong tenant: {env.tenant_id!r} is not a tenant of this installation")
        return Delivery(envelope=env, headers=headers, record=record)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Decode and apply one batch (what the loop does, without its pipelining)."""
        await self.apply(*self.decode_batch(records))

    def decode_batch(self, records: Sequence[ConsumerRecord]) -> tuple[list[Delivery], list[tuple[ConsumerRecord, str, str]]]:
        """The batch's deliveries, and its dead letters with their reasons and kinds."""
        good: list[Delivery] = []
        dead: list[tuple[ConsumerRecord, str, str]] = []
        for r in records:
            size, limit = len(r.value or b""), self.topic_names.max_event_bytes(r.topic)
            if size > limit:
                dead.append((r, f"event of {size} bytes is over the {limit}-byte limit of its topic", "oversized"))
                continue
            try:
                d = self.decode(r)
            except EventRejected as exc:
                dead.append((r, str(exc), exc.kind))
                continue
            except DecodeError as exc:
                dead.append((r, str(exc), "malformed"))
                continue
            except ValidationError as exc:  # tenant id or envelope field of the wrong shape
                dead.append((r, f"invalid envelope: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", "invalid"))
                continue
            except Exception as exc:  # any bytes at all: whatever cannot be read is a dead letter, not a stop
                dead.append((r, f"undecodable: {type(exc).__name__}: {exc}", "malformed"))
                continue
            if d is not None:
                good.append(d)
        return good, dead

    async def apply(self, good: list[Delivery], dead: list[tuple[ConsumerRecord, str, str]]) -> None:
        if dead:
            for r, reason, _kind in dead:
                log.warning("dead-lettering event", consumer=self.name, topic=r.topic, offset=r.offset, reason=reason)
            await self.dead_letters.send_many(dead)
            DEAD.labels(self.name).inc(len(dead))
        if not good:
            return
        try:
            await self._run(good)
        except HandlerFailed:
            # Isolate the poison event(s): one transaction per event, in order.
            for d in good:
                try:
                    await self._run([d])
                except HandlerFailed as exc:
                    assert d.record is not None
                    log.error("handler keeps failing; dead-lettering", consumer=self.name,
                              event_id=d.envelope.event_id, reason=str(exc))
                    await self.dead_letters.send(d.record, str(exc), "handler_failed")
                    DEAD.labels(self.name).inc()

    async def _run(self, batch: list[Delivery]) -> None:
        assert self.sessionmaker is not None, "EventConsumer.bind() is called when the service starts"
        attempt = transient = 0
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    fresh = await inbox.claim(session, self.name, [d.envelope for d in batch])
                    todo = [d for d in batch if inbox.inbox_key(d.envelope) in fresh]
                    if todo:
                        await self.handler(session, todo)
                CONSUMED.labels(self.name).inc(len(todo))
                DUPLICATES.labels(self.name).inc(len(batch) - len(todo))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _is_transient(exc):
                    transient += 1
                    if isinstance(exc, Retryable) and transient == 1:
                        # A handler's own "try again" (e.g. a concurrent batch won a unique key): what it waited
                        # for has committed, so the first retry goes at once.
                        log.info("handler asked for a retry", consumer=self.name, error=repr(exc))
                        continue
                    # The database or broker is away: waiting is right, dead-lettering would lose order.
                    self._failed(exc, self._inflight)
                    await asyncio.sleep(min(5.0, self.backoff * 2 ** min(transient - 1, 6)))
                    continue
                attempt += 1
                if attempt >= self.max_attempts:
                    raise HandlerFailed(f"{type(exc).__name__}: {exc} (after {attempt} attempts)") from exc
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))


class _FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Let the batch in flight commit before its partitions are handed to another member."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        try:
            await self.consumer.drain()
        except Exception:  # the loop's recovery handles it; the rebalance must go on
            log.exception("batch failed during a rebalance", consumer=self.consumer.name)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None
