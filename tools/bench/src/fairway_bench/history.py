"""History benchmark (`python -m fairway_bench.history`): a club's years of history through the whole platform.

Every service that reads upstream events (or what they cause) runs as its own process, as `make up` runs it:
identity, timeline, ml-scoring, segmentation, campaigns, journeys. The bench publishes a realistic history:
several clubs, tens of thousands of customers with about three events each (bookings, rounds, purchases,
payments; an email and a player or member id per person), as fast as the broker takes it. Identity resolves the
people as the events come and announces them, so the other services get upstream events interleaved with
identity's announcements as they really arrive.

Timed until every consumer group of every service reading those topics (and what they cause) has committed to
the end. Prints events/s end to end, and per service: events taken in/s, CPU µs per event in the service's
process and in the PostgreSQL backends of its database. Then `fairway replay transactions --wait` of a purchase
history (70,000 purchases by 23,000 customers by default) against the same platform, timed.

Sizes: FAIRWAY_BENCH_HISTORY_CUSTOMERS (per club, default 10,000, three clubs), FAIRWAY_BENCH_REPLAY_ROWS.
"""
from __future__ import annotations

import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from fairway_bench.benchkit import bench_env, report
from fairway_events.catalogue import CONSUMER_GROUPS, TopicNames
from fairway_events.envelope import upstream_wire
from fairway_events.history import consumer_lag, replay_transactions
from fairway_events.kafka import create_topics, make_producer
from fairway_localinfra import free_port

SERVICES = ["identity", "timeline", "ml-scoring", "segmentation", "campaigns", "journeys"]
CLUBS = ["stonehaven", "fairway-golf", "northfield"]
UPSTREAM = ["scl.events", "teetime.events", "messaging.events"]
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    database: str
    secret: str = ""  # the JWT secret it accepts, for benchmarks that use its API


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def pg_cpu(pg_url: str, databases: list[str]) -> dict[str, dict[int, float]]:
    """CPU seconds of each PostgreSQL backend serving a database (same machine: /proc)."""
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1)", databases)
    finally:
        await conn.close()
    out: dict[str, dict[int, float]] = {d: {} for d in databases}
    for r in rows:
        out[r["datname"]][r["pid"]] = cpu_seconds(r["pid"])
    return out


def history(customers: int, seed: int = 7) -> list[tuple[str, str, bytes, bytes]]:
    """(topic, tenant, key, value) of every club's history, in time order across clubs."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out = []
    for club in CLUBS:
        domain = f"{club.replace('-', '')}golf.co.za"
        for i in range(customers):
            ident = {"email": f"member{i:06}@{domain}", "teetimePlayerId": f"TT{i:06}"}
            for n in range(rng.choice((2, 3, 3, 4))):
                at = start + timedelta(days=rng.randrange(900), hours=rng.randrange(8, 18))
                kind = rng.choice(("booking", "round", "purchase", "payment"))
                if kind == "payment":
                    topic, etype = "scl.events", "scl.payment.received"
                    body = {"paymentId": f"pay-{club}-{i}-{n}", "amount": str(rng.randrange(200, 3000)),
                            "currency": "ZAR"}
                    who = {"email": ident["email"], "sclMemberId": f"M{i:06}"}
                elif kind == "purchase":
                    topic, etype, who = "teetime.events", "teetime.purchase.completed", ident
                    body = {"purchaseId": f"pos-{club}-{i}-{n}", "amount": str(rng.randrange(50, 900)),
                            "currency": "ZAR", "quantity": 1}
                elif kind == "round":
                    topic, etype, who = "teetime.events", "teetime.round.played", ident
                    body = {"roundId": f"rd-{club}-{i}-{n}"}
                else:
                    topic, etype, who = "teetime.events", "teetime.booking.created", ident
                    body = {"bookingId": f"bk-{club}-{i}-{n}", "amount": str(rng.randrange(300, 900))}
                value = upstream_wire(event_id=f"{club}-{i}-{n}", event_type=etype, tenant_id=club, timestamp=at,
                                      identity=who, payload=body)
                out.append((at, topic, club, ident["email"].encode(), value))
    out.sort(key=lambda e: e[0])  # the clubs' days interleave as they happened
    return [(topic, club, key, value) for _, topic, club, key, value in out]


async def start_services(pg_url: str, bootstrap: str, prefix: str, run_dir: Path) -> list[Service]:
    secret = secrets.token_hex(32)
    base = {**os.environ, "FAIRWAY_DATABASE_URL": pg_url, "FAIRWAY_KAFKA_BOOTSTRAP": bootstrap,
            "FAIRWAY_JWT_SECRET": secret, "FAIRWAY_TOPIC_PREFIX": prefix, "FAIRWAY_LOG_LEVEL": "WARNING",
            "FAIRWAY_ML_SCORING_RUN_DIR": str(run_dir), "PYTHONUNBUFFERED": "1"}
    out = []
    for name in SERVICES:
        env_name = name.replace("-", "_").upper()
        port, database = free_port(), f"bench_hist_{name.replace('-', '_')}_{secrets.token_hex(3)}"
        env = {**base, f"FAIRWAY_{env_name}_PORT": str(port), f"FAIRWAY_{env_name}_DATABASE_NAME": database}
        log = (run_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(  # noqa: ASYNC220  (a service process for the whole run, as `make up` starts it)
            [sys.executable, "-m", f"fairway_{name.replace('-', '_')}"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        out.append(Service(name, proc, port, database, secret))
    async with httpx.AsyncClient(timeout=5) as http:
        for s in out:
            deadline = time.monotonic() + 600
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{s.port}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if s.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{s.name} did not become ready; see {run_dir / (s.name + '.log')}")
                await asyncio.sleep(1)
    return out


def stop_services(services: list[Service]) -> None:
    for s in services:
        s.proc.terminate()
    for s in services:
        try:
            s.proc.wait(30)
        except subprocess.TimeoutExpired:
            s.proc.kill()


async def publish(bootstrap: str, names: TopicNames, events: list[tuple[str, str, bytes, bytes]]) -> None:
    producer = make_producer(bootstrap, client_id="fairway-bench-history")
    await producer.start()
    try:
        pending = []
        for topic, club, key, value in events:
            pending.append(await producer.send(names(topic), value=value, key=key,
                                               headers=[("tenant_id", club.encode())]))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def caught_up(bootstrap: str, names: TopicNames, started: float, timeout: float) -> dict[str, float]:
    """Seconds from `started` until each group first had nothing left (all of them, twice in a row)."""
    done: dict[str, float] = {}
    settled = 0
    while settled < 2:
        lag = await consumer_lag(bootstrap, names, UPSTREAM)
        now = time.monotonic() - started
        for group, behind in lag.items():
            if behind:
                done.pop(group, None)
            else:
                done.setdefault(group, now)
        settled = settled + 1 if lag and not any(lag.values()) else 0
        if now > timeout:
            raise SystemExit(f"not caught up after {timeout:g}s: {lag}")
        await asyncio.sleep(1.0)
    return done


async def consumed_per_group(bootstrap: str, names: TopicNames) -> dict[str, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        await probe.topics()
        out = {}
        for g in CONSUMER_GROUPS:
            tps = [TopicPartition(names(t), p) for t in g.topics for p in probe.partitions_for_topic(names(t)) or ()]
            out[g.name] = sum((await probe.end_offsets(tps)).values()) if tps else 0
        return out
    finally:
        await probe.stop()


async def main() -> None:
    per_club = int(os.environ.get("FAIRWAY_BENCH_HISTORY_CUSTOMERS", "10000"))
    replay_rows = int(os.environ.get("FAIRWAY_BENCH_REPLAY_ROWS", "70000"))
    async with bench_env() as env:
        prefix = f"bh{secrets.token_hex(3)}."
        names = TopicNames(prefix)
        await create_topics(env.bootstrap, names)
        run_dir = Path(tempfile.mkdtemp(prefix="fairway-bench-history-"))
        services = await start_services(env.pg_server_url, env.bootstrap, prefix, run_dir)
        env.created += [s.database for s in services]  # dropped by bench_env
        try:
            events = history(per_club)
            dbs = [s.database for s in services]
            cpu0 = {s.name: cpu_seconds(s.proc.pid) for s in services}
            pg0 = await pg_cpu(env.pg_server_url, dbs)
            started = time.monotonic()
            await publish(env.bootstrap, names, events)
            published = time.monotonic() - started
            done = await caught_up(env.bootstrap, names, started, timeout=3600)
            elapsed = max(done.values())
            cpu1 = {s.name: cpu_seconds(s.proc.pid) for s in services}
            pg1 = await pg_cpu(env.pg_server_url, dbs)
            consumed = await consumed_per_group(env.bootstrap, names)
            print(f"history: {len(CLUBS)} clubs x {per_club} customers, {len(events)} upstream events "
                  f"(published in {published:.1f}s); every group caught up after {elapsed:.1f}s")
            report("history end to end (upstream events, whole platform)", len(events) / elapsed, "events/s",
                   ">= 2,000 events/s")
            for s in services:
                groups = [g.name for g in CONSUMER_GROUPS if g.service == s.name and g.name in done]
                if not groups:
                    continue
                n = sum(consumed[g] for g in groups)
                took = max(done[g] for g in groups)
                pg = sum(cpu - pg0[s.database].get(pid, 0.0) for pid, cpu in pg1[s.database].items())
                print(f"  {s.name:13} {n:>8} events in {took:6.1f}s = {n / took:8.0f} events/s   CPU/event: "
                      f"service {1e6 * (cpu1[s.name] - cpu0[s.name]) / max(n, 1):7.0f} µs, "
                      f"PostgreSQL {1e6 * pg / max(n, 1):7.0f} µs")
            if replay_rows:
                await replay_bench(env.bootstrap, prefix, run_dir, replay_rows)
        finally:
            stop_services(services)


async def replay_bench(bootstrap: str, prefix: str, run_dir: Path, rows: int) -> None:
    customers = max(1, rows * 23 // 70)
    rng = random.Random(11)
    path = run_dir / "purchases.csv"
    with path.open("w") as fh:
        fh.write("customer_id,date,quantity,amount\n")
        for _ in range(rows):
            fh.write(f"C{rng.randrange(customers):06},{20230101 + rng.randrange(12) * 100 + rng.randrange(1, 28)},"
                     f"1,{rng.randrange(20, 900)}.00\n")
    started = time.monotonic()
    result = await replay_transactions(path, "replay-club", bootstrap, prefix, wait=True, wait_timeout=3600)
    took = time.monotonic() - started
    print(f"replay --wait: {result.published} purchases by {result.customers} customers in {took:.1f}s")
    report("replay transactions --wait (whole platform)", took, "s", "<= 60 s for 70,000 purchases")


if __name__ == "__main__":
    asyncio.run(main())
