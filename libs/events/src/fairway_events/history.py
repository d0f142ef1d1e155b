"""`fairway replay transactions`: a purchase history file becomes upstream purchase events, so a club's (or a
public dataset's) history flows through the real platform, and models train and evaluate on it.

File: a header row naming customer_id, date (YYYYMMDD or ISO), quantity and amount, separated by commas or
whitespace. Each row becomes `teetime.purchase.completed` (or `scl.payment.received` with source scl) with the
historic date as event time (noon UTC) and one identity per customer (teetimePlayerId / sclMemberId).

A bad row stops the replay before anything is published, naming its line and the problem; with skip_bad it is
skipped and counted instead. Safe to run twice: event ids derive from the tenant, the row's content and its
occurrence number, so a second run publishes the same ids and every consumer's inbox drops them.

With wait, the replay returns once every consumer group of every running service that reads those events (and
the events they cause, transitively) has committed to the end of its topics: the platform has taken it all in.
Only the group offset reads that Tansu supports are used (`committed`, `end_offsets`, `list_consumer_groups`).
"""
from __future__ import annotations

import asyncio
import csv
import re
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from fairway_events.catalogue import TopicNames, downstream, readers
from fairway_events.envelope import upstream_wire
from fairway_events.kafka import make_producer
from fairway_schemas.common import TENANT_ID_PATTERN

NAMESPACE = uuid.UUID("6f1c2a9e-3f57-4f0a-9a0e-7b7d2f1c0a11")
REQUIRED = ("customer_id", "date", "quantity", "amount")
SOURCES = {
    "teetime": ("teetime.events", "teetime.purchase.completed", "teetimePlayerId", "purchaseId"),
    "scl": ("scl.events", "scl.payment.received", "sclMemberId", "paymentId"),
}
TENANT_ID = re.compile(TENANT_ID_PATTERN)


class ReplayError(ValueError):
    pass


@dataclass(frozen=True)
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
    """Rows of the file. A bad row raises ReplayError naming its line, unless `skipped` is given: then the
    line and its problem are appended there and the row is left out."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header_line = fh.readline()
        if not header_line.strip():
            raise ReplayError(f"{path} is empty: a header row naming {', '.join(REQUIRED)} is required")
        comma = "," in header_line
        header = [h.strip().lower() for h in (next(csv.reader([header_line])) if comma else header_line.split())]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ReplayError(f"the header row lacks {', '.join(missing)} (found: {', '.join(header)})")
        idx = {c: header.index(c) for c in REQUIRED}
        rows = csv.reader(fh) if comma else (line.split() for line in fh)
        for n, cells in enumerate(rows, start=2):
            if not cells or not any(c.strip() for c in cells):
                continue
            try:
                yield _row(n, cells, idx)
            except (IndexError, ValueError, InvalidOperation) as exc:
                problem = f"line {n}: {_describe(exc, cells)}"
                if skipped is None:
                    raise ReplayError(f"{problem} (nothing was published; fix it or pass --skip-bad)") from None
                skipped.append(problem)


def _row(n: int, cells: list[str], idx: dict[str, int]) -> Transaction:
    customer = cells[idx["customer_id"]].strip()
    if not customer or len(customer) > 200 or "\x00" in customer:
        raise ValueError(f"customer_id {customer[:40]!r} is empty, too long or holds a NUL")
    try:
        amount = Decimal(cells[idx["amount"]].strip())
    except InvalidOperation:
        raise ValueError(f"amount {cells[idx['amount']].strip()[:40]!r} is not a number") from None
    try:
        quantity = int(Decimal(cells[idx["quantity"]].strip()))
    except (InvalidOperation, ValueError):
        raise ValueError(f"quantity {cells[idx['quantity']].strip()[:40]!r} is not a number") from None
    if not amount.is_finite() or amount < 0 or quantity < 0:
        raise ValueError("amount and quantity must be finite and not negative (returns are not purchases)")
    return Transaction(n, customer, parse_date(cells[idx["date"]]), quantity, amount)


def _describe(exc: Exception, cells: list[str]) -> str:
    if isinstance(exc, IndexError):
        return f"{len(cells)} column(s), fewer than the header names"
    return str(exc)


async def replay_transactions(
    path: str | Path,
    tenant: str,
    bootstrap: str,
    topic_prefix: str = "",
    source: str = "teetime",
    wait: bool = False,
    *,
    skip_bad: bool = False,
    currency: str = "ZAR",
    wait_timeout: float = 600.0,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    if source not in SOURCES:
        raise ReplayError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if not TENANT_ID.fullmatch(tenant):
        raise ReplayError(f"tenant {tenant!r} is not a valid tenant id")
    topic_name, event_type, id_key, payload_id = SOURCES[source]
    path = Path(path)
    names = TopicNames(topic_prefix)
    result = ReplayResult(topic=names(topic_name))
    transactions = list(read_transactions(path, result.skipped if skip_bad else None))
    result.rows = len(transactions)
    if transactions:
        result.first_date = min(t.day for t in transactions).isoformat()
        result.last_date = max(t.day for t in transactions).isoformat()
    result.customers = len({t.customer_id for t in transactions})
    seen: Counter[str] = Counter()
    def messages() -> Iterator[Outgoing]:
        for t in transactions:
            content = f"{tenant}|{source}|{t.customer_id}|{t.day.isoformat()}|{t.quantity}|{t.amount}"
            seen[content] += 1
            event_id = str(uuid.uuid5(NAMESPACE, f"{content}|{seen[content]}"))
            payload: dict[str, object] = {payload_id: event_id, "amount": str(t.amount), "currency": currency}
            if source == "teetime":
                payload["quantity"] = t.quantity
            value = upstream_wire(event_id=event_id, event_type=event_type, tenant_id=tenant,
                                  timestamp=datetime.combine(t.day, time(12, 0), tzinfo=UTC),
                                  identity={id_key: t.customer_id}, payload=payload)
            yield Outgoing(result.topic, t.customer_id.encode(), value, tenant, event_type)

    producer = make_producer(bootstrap, client_id="fairway-replay")
    await producer.start()
    try:
        result.published = await send_all(producer, messages(), progress)
    finally:
        await producer.stop()
    if wait and transactions:
        await wait_until_consumed(bootstrap, names, [topic_name], timeout=wait_timeout)
        result.waited = True
    return result


@dataclass(frozen=True)
class Outgoing:
    """An upstream message on its way: physical topic, Kafka key, encoded value, and the headers' tenant and type."""

    topic: str
    key: bytes
    value: bytes
    tenant: str
    event_type: str


async def send_all(producer: AIOKafkaProducer, messages: Iterable[Outgoing],
                   progress: Callable[[int], None] | None = None, window: int = 1000) -> int:
    """Publish in order with up to `window` sends in flight; returns how many were acknowledged (all, or raises)."""
    pending = []
    sent = 0
    for m in messages:
        pending.append(await producer.send(m.topic, value=m.value, key=m.key, headers=[
            ("tenant_id", m.tenant.encode()), ("event_type", m.event_type.encode())]))
        if len(pending) >= window:
            await asyncio.gather(*pending)
            sent += len(pending)
            if progress:
                progress(len(pending))
            pending.clear()
    await asyncio.gather(*pending)
    sent += len(pending)
    if progress and pending:
        progress(len(pending))
    return sent


async def consumer_lag(bootstrap: str, names: TopicNames, topics: list[str],
                       groups: Collection[str] | None = None) -> dict[str, int]:
    """Per running consumer group reading `topics` or what they cause (only `groups`, when given): events not yet
    committed (0 = caught up)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="fairway-replay-wait")
    await admin.start()
    try:
        running = {g for g, _ in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="fairway-replay-wait")
    await probe.start()
    try:
        await probe.topics()  # metadata of every topic, for partitions_for_topic
        wanted = {(g.name, t) for t in downstream(topics) for g in readers(t)
                  if names.group(g.name) in running and (groups is None or g.name in groups)}
        parts = {t: [TopicPartition(names(t), p) for p in sorted(probe.partitions_for_topic(names(t)) or ())]
                 for t in {t for _, t in wanted}}
        ends = await probe.end_offsets([tp for tps in parts.values() for tp in tps]) if parts else {}
    finally:
        await probe.stop()
    lag: dict[str, int] = {}
    for group in sorted({g for g, _ in wanted}):
        reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=names.group(group),
                                  enable_auto_commit=False, client_id="fairway-replay-wait")
        await reader.start()  # never subscribes: reading the group's offsets does not join it
        try:
            behind = 0
            for t in (t for g, t in wanted if g == group):
                for tp in parts[t]:
                    committed = await reader.committed(tp) or 0
                    behind += max(0, ends[tp] - committed)
            lag[group] = behind
        finally:
            await reader.stop()
    return lag


async def wait_until_consumed(bootstrap: str, names: TopicNames, topics: list[str], *, timeout: float = 600.0,
                              interval: float = 0.5, groups: Collection[str] | None = None) -> dict[str, int]:
    """Return once every running group reading `topics` (or what they cause; only `groups`, when given) has
    committed to the end, twice in a row (a service may still be publishing what the last batch caused)."""
    deadline = asyncio.get_running_loop().time() + timeout
    settled = 0
    while True:
        lag = await consumer_lag(bootstrap, names, topics, groups)
        settled = settled + 1 if not any(lag.values()) else 0
        if settled >= 2:
            return lag
        if asyncio.get_running_loop().time() > deadline:
            behind = {g: n for g, n in lag.items() if n}
            raise TimeoutError(f"not every consumer caught up within {timeout:g}s; events behind per group: {behind}")
        await asyncio.sleep(interval)
