"""`fairway replay transactions`: a purchase history file becomes upstream purchase events, so a club's (or
a public dataset's) history can be fed through the real pipeline and models trained and evaluated on it.

File: a header row naming customer_id, date (YYYYMMDD or ISO), quantity and amount, separated by commas or
whitespace. Each row becomes `teetime.purchase.completed` (or `scl.payment.received` with source scl) with
the historic date as event time (noon UTC) and one identity per customer (teetimePlayerId / sclMemberId).

Safe to run twice: event ids are derived from the tenant, the row's content and its occurrence number, so a
second run publishes the same ids and consumers' inboxes drop them. With wait=True the function returns only
when the ml-scoring consumer group has committed past every event published (offsets are committed after
the events' transaction), i.e. when ml-scoring has processed them all.
"""

from __future__ import annotations

import asyncio
import csv
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fairway_events.catalogue import TopicNames
from fairway_events.envelope import upstream_wire
from fairway_events.kafka import make_producer

NAMESPACE = uuid.UUID("6f1c2a9e-3f57-4f0a-9a0e-7b7d2f1c0a11")
REQUIRED = ("customer_id", "date", "quantity", "amount")
CONSUMER_GROUP = "ml-scoring.features"
SOURCES = {
    "teetime": ("teetime.events", "teetime.purchase.completed", "teetimePlayerId", "purchaseId"),
    "scl": ("scl.events", "scl.payment.received", "sclMemberId", "paymentId"),
}


class ReplayError(ValueError):
    pass


@dataclass
class Transaction:
    line: int
    customer_id: str
    day: date
    quantity: int
    amount: Decimal


@dataclass
class ReplayResult:
    rows: int = 0
    published: int = 0
    customers: int = 0
    skipped: list[str] = field(default_factory=list)
    topic: str = ""
    waited: bool = False
    first_date: str | None = None
    last_date: str | None = None


def parse_date(value: str) -> date:
    v = value.strip()
    if re.fullmatch(r"\d{8}", v):
        return date(int(v[:4]), int(v[4:6]), int(v[6:]))
    try:
        return datetime.fromisoformat(v).date() if ("T" in v or " " in v) else date.fromisoformat(v)
    except ValueError as exc:
        raise ValueError(f"date {value!r} is neither YYYYMMDD nor ISO") from exc


def read_transactions(path: Path, skipped: list[str] | None = None) -> Iterator[Transaction]:
    """Rows of the file; unusable rows are reported in `skipped` (line and reason), not raised."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header_line = fh.readline()
        if not header_line.strip():
            raise ReplayError(f"{path} is empty: a header row naming {', '.join(REQUIRED)} is required")
        comma = "," in header_line
        header = [
            h.strip().lower() for h in (next(csv.reader([header_line])) if comma else header_line.split())
        ]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ReplayError(f"the header row lacks {', '.join(missing)} (found: {', '.join(header)})")
        idx = {c: header.index(c) for c in REQUIRED}
        rows = csv.reader(fh) if comma else (line.split() for line in fh)
        for n, cells in enumerate(rows, start=2):
            if not cells or not any(c.strip() for c in cells):
                continue
            try:
                amount = Decimal(cells[idx["amount"]].strip())
                quantity = int(Decimal(cells[idx["quantity"]].strip()))
                if amount < 0 or quantity < 0:
                    raise ValueError("negative amount or quantity (returns are not purchases)")
                yield Transaction(
                    n, cells[idx["customer_id"]].strip(), parse_date(cells[idx["date"]]), quantity, amount
                )
            except (IndexError, ValueError, InvalidOperation) as exc:
                if skipped is not None:
                    skipped.append(f"line {n}: {exc}")


async def _committed(bootstrap: str, group: str, topic: str, partitions: list[int]) -> dict[int, int]:
    """The group's committed offsets, read as a consumer of the group that never joins it (no rebalance)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, client_id="fairway-replay-wait"
    )
    await consumer.start()
    try:
        out = {}
        for p in partitions:
            offset = await consumer.committed(TopicPartition(topic, p))
            if offset is not None and offset >= 0:
                out[p] = offset
        return out
    finally:
        await consumer.stop()


async def wait_until_consumed(
    bootstrap: str,
    topic: str,
    last_offsets: dict[int, int],
    *,
    group: str = CONSUMER_GROUP,
    timeout: float = 600.0,
    interval: float = 0.5,
) -> None:
    """Return once the group's committed offset is past `last_offsets` on every partition."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        committed = await _committed(bootstrap, group, topic, sorted(last_offsets))
        if all(committed.get(p, -1) > off for p, off in last_offsets.items()):
            return
        if asyncio.get_running_loop().time() > deadline:
            behind = {
                p: (committed.get(p), off) for p, off in last_offsets.items() if committed.get(p, -1) <= off
            }
            raise TimeoutError(
                f"{group} has not processed everything after {timeout}s (partition: committed, "
                f"needed past): {behind}"
            )
        await asyncio.sleep(interval)


async def replay_transactions(
    path: str | Path,
    tenant: str,
    bootstrap: str,
    topic_prefix: str = "",
    source: str = "teetime",
    wait: bool = False,
    *,
    progress: bool = True,
    currency: str = "ZAR",
    wait_timeout: float = 600.0,
    group: str = CONSUMER_GROUP,
) -> ReplayResult:
    if source not in SOURCES:
        raise ReplayError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    from fairway_schemas.common import TENANT_ID_PATTERN

    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        raise ReplayError(f"tenant {tenant!r} is not a valid tenant id")
    topic_name, event_type, id_key, payload_id = SOURCES[source]
    path = Path(path)
    result = ReplayResult(topic=TopicNames(topic_prefix)(topic_name))
    transactions = list(read_transactions(path, result.skipped))
    result.rows = len(transactions)
    if transactions:
        result.first_date = min(t.day for t in transactions).isoformat()
        result.last_date = max(t.day for t in transactions).isoformat()
    result.customers = len({t.customer_id for t in transactions})
    seen: Counter[str] = Counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(transactions), unit="event", desc=f"replay {path.name}")
    producer = make_producer(bootstrap, client_id="fairway-replay")
    await producer.start()
    last: dict[int, int] = {}
    try:
        pending = []
        for t in transactions:
            content = f"{tenant}|{source}|{t.customer_id}|{t.day.isoformat()}|{t.quantity}|{t.amount}"
            seen[content] += 1
            event_id = str(uuid.uuid5(NAMESPACE, f"{content}|{seen[content]}"))
            payload = {payload_id: event_id, "amount": str(t.amount), "currency": currency}
            if source == "teetime":
                payload["quantity"] = t.quantity
            value = upstream_wire(
                event_id=event_id,
                event_type=event_type,
                tenant_id=tenant,
                timestamp=datetime.combine(t.day, time(12, 0), tzinfo=UTC),
                identity={id_key: t.customer_id},
                payload=payload,
            )
            pending.append(
                await producer.send(
                    result.topic,
                    value=value,
                    key=t.customer_id.encode(),
                    headers=[("tenant_id", tenant.encode()), ("event_type", event_type.encode())],
                )
            )
            if len(pending) >= 1000:
                await _settle(pending, last, bar)
        await _settle(pending, last, bar)
        result.published = len(transactions)
    finally:
        await producer.stop()
        if bar is not None:
            bar.close()
    if wait and last:
        await wait_until_consumed(
            bootstrap, result.topic, last, group=TopicNames(topic_prefix).group(group), timeout=wait_timeout
        )
        result.waited = True
    return result


async def _settle(pending: list[asyncio.Future], last: dict[int, int], bar: object) -> None:
    for meta in await asyncio.gather(*pending):
        last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
    if bar is not None:
        bar.update(len(pending))  # type: ignore[attr-defined]
    pending.clear()
