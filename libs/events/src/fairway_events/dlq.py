"""Dead letters: poison events go to their topic's `.dlq` with the reason and the original bytes.

`fairway dlq list` reads them back; `fairway dlq replay` republishes them to the topic they came from,
where every consumer's inbox still de-duplicates what it already processed.

A dead letter must always fit, or the consumer could never move past its poison: one too large for the broker's
request limit keeps its first bytes and its size (`x-dlq-truncated`, `x-dlq-original-size`) and cannot be
replayed.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import Counter

from fairway_events.catalogue import TopicNames

DEAD_LETTERS = Counter("fairway_dead_letters_total", "Events sent to a dead-letter topic", ["consumer", "kind"])

H_REASON, H_KIND, H_CONSUMER = "x-dlq-reason", "x-dlq-kind", "x-dlq-consumer"
H_TOPIC, H_PARTITION, H_OFFSET, H_AT = "x-dlq-original-topic", "x-dlq-original-partition", "x-dlq-original-offset", "x-dlq-failed-at"
H_TRUNCATED, H_SIZE = "x-dlq-truncated", "x-dlq-original-size"

# Below the producer's request limit (aiokafka's 1 MiB) with room for headers and batch overhead.
WHOLE_LIMIT = 900 * 1024
# What an oversized message keeps: enough to see what it was and who sent it.
HEAD_BYTES = 16 * 1024


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer, topics: TopicNames, consumer: str) -> None:
        self.producer = producer
        self.topics = topics
        self.consumer = consumer

    async def send(self, record: ConsumerRecord, reason: str, kind: str) -> None:
        await self.send_many([(record, reason, kind)])

    async def send_many(self, items: list[tuple[ConsumerRecord, str, str]]) -> None:
        futures = []
        for record, reason, kind in items:
            futures.append(await self._send(record, reason, kind, whole=_size(record) <= WHOLE_LIMIT))
            DEAD_LETTERS.labels(self.consumer, kind).inc()
        for (record, reason, kind), future in zip(items, futures, strict=True):
            try:
                await future
            except MessageSizeTooLargeError:  # the broker's limit is lower than ours: keep the head only
                await (await self._send(record, reason, kind, whole=False))

    async def _send(self, record: ConsumerRecord, reason: str, kind: str, *, whole: bool) -> asyncio.Future[object]:
        dlq = f"{record.topic}.dlq"
        value, key = record.value, record.key
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("x-dlq-")]
        if not whole:
            value, key = (value or b"")[:HEAD_BYTES], (key or b"")[:1024] or None
            headers = [(k[:200], v[:1024]) for k, v in headers[:20]]
            headers += [(H_TRUNCATED, b"true"), (H_SIZE, str(_size(record)).encode())]
        headers += [
            (H_REASON, reason[:2000].encode(errors="replace")),
            (H_KIND, kind.encode()),
            (H_CONSUMER, self.consumer.encode()),
            (H_TOPIC, record.topic.encode()),
            (H_PARTITION, str(record.partition).encode()),
            (H_OFFSET, str(record.offset).encode()),
            (H_AT, datetime.now(UTC).isoformat().encode()),
        ]
        try:
            return await self.producer.send(dlq, value=value, key=key, headers=headers)
        except MessageSizeTooLargeError:  # the client's own check, before anything is sent
            if not whole:
                raise
            return await self._send(record, reason, kind, whole=False)


def _size(record: ConsumerRecord) -> int:
    return (len(record.value or b"") + len(record.key or b"")
            + sum(len(k) + len(v or b"") for k, v in record.headers or ()))


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    offset: int
    reason: str
    kind: str
    consumer: str
    original_topic: str
    original_offset: str
    failed_at: str
    value: bytes
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    original_size: int | None = None  # set when only the first bytes were kept

    @property
    def truncated(self) -> bool:
        return self.original_size is not None


def _h(record: ConsumerRecord, name: str) -> str:
    for k, v in record.headers or ():
        if k == name:
            return v.decode(errors="replace")
    return ""


async def read_dead_letters(bootstrap: str, dlq_topics: list[str], timeout: float = 10.0) -> list[DeadLetter]:
    """Everything currently in the given DLQ topics, oldest first."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    out: list[DeadLetter] = []
    try:
        existing = await consumer.topics()
        parts = [TopicPartition(t, p) for t in dlq_topics if t in existing
                 for p in (consumer.partitions_for_topic(t) or ())]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        remaining = {tp for tp in parts if ends[tp] > 0}
        deadline = asyncio.get_running_loop().time() + timeout
        while remaining and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    out.append(DeadLetter(
                        dlq_topic=r.topic, offset=r.offset, reason=_h(r, H_REASON), kind=_h(r, H_KIND),
                        consumer=_h(r, H_CONSUMER), original_topic=_h(r, H_TOPIC),
                        original_offset=_h(r, H_OFFSET), failed_at=_h(r, H_AT), value=r.value, key=r.key,
                        headers=tuple(r.headers or ()),
                        original_size=int(_h(r, H_SIZE)) if _h(r, H_TRUNCATED) == "true" else None,
                    ))
                    if r.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def replay(producer: AIOKafkaProducer, letters: list[DeadLetter]) -> int:
    """Republish dead letters to their original topics, with their original headers. A truncated one is not the
    event any more, so it is never republished."""
    futures = []
    for d in letters:
        if d.truncated:
            continue
        headers = [(k, v) for k, v in d.headers if not k.startswith("x-dlq-")]
        headers.append(("x-dlq-replayed-from", f"{d.dlq_topic}@{d.offset}".encode()))
        futures.append(await producer.send(d.original_topic, value=d.value, key=d.key, headers=headers))
    await asyncio.gather(*futures)
    return len(futures)
