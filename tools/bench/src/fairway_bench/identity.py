"""Identity benchmark: a realistic upstream mix through the real service (its own process, its consumer, real
PostgreSQL, real broker). Run: python -m fairway_bench.identity

Prints:
- drain throughput: a backlog of events consumed as fast as the service can (events/s to committed rows);
- steady load: events published at a fixed rate (12,000/s by default), and again at half the measured drain
  rate, with the p50/p99 from publish to commit;
- CPU per event of the service process and of its PostgreSQL backends (load-independent);
- a correctness check: profiles created == distinct people introduced (no duplicates, no wrong merges).

The mix: new people arrive through SCL (member records), TeeTime (player registration, bookings) or Messaging;
returning people book, play, buy, pay, open emails and change preferences. Every system introduces a person
with their email and its own id, later events often carry only the system's id; several keys per person.
Scale with FAIRWAY_BENCH_SCALE (1.0 = a 30k-event backlog, then 3 s at the target rate and 3 s at half the
drain rate); FAIRWAY_BENCH_RATE sets the target rate. FAIRWAY_BENCH_REPLICAS (default 2) service processes share
the consumer group, as replicas of the deployment would (the upstream topics have 6 partitions); one of them
relays the outbox (advisory lock).
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
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from fairway_bench.benchkit import bench_env, percentile, report, wait_http
from fairway_events.catalogue import TopicNames
from fairway_events.envelope import upstream_wire
from fairway_events.kafka import create_topics, make_producer
from fairway_localinfra import free_port

TENANT = "bench-club"
SCALE = float(os.environ.get("FAIRWAY_BENCH_SCALE", "1.0"))
DRAIN_EVENTS = int(30_000 * SCALE)
STEADY_RATE = int(os.environ.get("FAIRWAY_BENCH_RATE", "12000"))
STEADY_SECONDS = 3 * SCALE
NEW_PERSON_SHARE = 0.12
REPLICAS = int(os.environ.get("FAIRWAY_BENCH_REPLICAS", "2"))


@dataclass
class Person:
    n: int
    email: str
    phone: str
    scl: str | None
    teetime: str | None
    contact: str
    auth: str | None
    known_by: set[str] = field(default_factory=set)  # systems that have introduced them


class Mix:
    """Generates upstream events: (topic, key, bytes)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.people: list[Person] = []

    def _new_person(self) -> Person:
        n = len(self.people)
        r = self.rng
        p = Person(
            n=n,
            email=f"Person.{n}@Example-Club.co.za" if r.random() < 0.3 else f"person.{n}@mail.co.za",
            phone=f"08{2 + n % 3} {n // 10000 % 1000:03d} {n % 10000:04d}",  # unique per person
            scl=str(100000 + n) if r.random() < 0.7 else None,
            teetime=f"tt-{n}" if r.random() < 0.8 else None,
            contact=f"mc-{n}",
            auth=f"auth-{n}" if r.random() < 0.3 else None,
        )
        self.people.append(p)
        return p

    def _returning(self) -> Person:
        # A few regulars generate most events (a skewed pick), as at a real club.
        k = len(self.people)
        return self.people[min(k - 1, int(k * self.rng.random() ** 2.5))]

    def next(self) -> tuple[str, str, bytes]:
        r = self.rng
        if not self.people or r.random() < NEW_PERSON_SHARE:
            p = self._new_person()
            system = "scl" if p.scl and r.random() < 0.5 else ("teetime" if p.teetime else "messaging")
        else:
            p = self._returning()
            roll = r.random()
            system = "teetime" if roll < 0.5 else ("messaging" if roll < 0.85 else "scl")
            if system == "scl" and not p.scl or system == "teetime" and not p.teetime:
                system = "messaging"
        return self._event(p, system)

    def _event(self, p: Person, system: str) -> tuple[str, str, bytes]:
        r = self.rng
        first = system not in p.known_by
        p.known_by.add(system)
        ident: dict[str, str | None]
        if system == "scl":
            assert p.scl
            ident = {
                "sclMemberId": p.scl,
                "email": p.email if first or r.random() < 0.5 else None,
                "phoneNumber": p.phone if first or r.random() < 0.3 else None,
                "authUserId": p.auth,
            }
            if first:
                t, payload = (
                    "scl.member.created",
                    {
                        "firstName": f"First{p.n}",
                        "lastName": f"Last{p.n}",
                        "membershipTier": r.choice(["Bronze", "Silver", "Gold"]),
                        "membershipStatus": "ACTIVE",
                        "memberSince": "2019-04-01",
                    },
                )
            else:
                t, payload = r.choice(
                    [
                        ("scl.payment.received", {"paymentId": uuid.uuid4().hex, "amount": "450.00"}),
                        ("scl.member.updated", {"membershipTier": r.choice(["Silver", "Gold", "Platinum"])}),
                        ("scl.membership.renewed", {"membershipExpiry": "2026-03-31"}),
                    ]
                )
            key = p.scl
        elif system == "teetime":
            assert p.teetime
            ident = {
                "teetimePlayerId": p.teetime,
                "email": p.email if first or r.random() < 0.3 else None,
                "phoneNumber": p.phone if r.random() < 0.2 else None,
            }
            if first:
                t, payload = "teetime.player.created", {"firstName": f"First{p.n}", "handicap": 18.0}
            else:
                t, payload = r.choice(
                    [
                        ("teetime.booking.created", {"bookingId": uuid.uuid4().hex, "players": 2}),
                        ("teetime.booking.created", {"bookingId": uuid.uuid4().hex, "players": 4}),
                        ("teetime.round.played", {"roundId": uuid.uuid4().hex, "score": r.randint(70, 100)}),
                        ("teetime.handicap.updated", {"handicap": round(r.uniform(2, 28), 1)}),
                        ("teetime.purchase.completed", {"purchaseId": uuid.uuid4().hex, "amount": "120.00"}),
                    ]
                )
            key = p.teetime
        else:
            ident = {
                "messagingContactId": p.contact,
                "email": p.email if first or r.random() < 0.6 else None,
                "phoneNumber": p.phone if first and r.random() < 0.5 else None,
            }
            if r.random() < 0.06:
                t, payload = (
                    "contactPreference.updated",
                    {"emailOptIn": r.random() < 0.8, "smsOptIn": r.random() < 0.5},
                )
            else:
                t = r.choice(["messaging.email.sent", "messaging.email.delivered", "messaging.email.opened"])
                payload = {"messageId": uuid.uuid4().hex}
            key = p.contact
        topic = t.split(".", 1)[0]
        topic = {"contactPreference": "messaging"}.get(topic, topic) + ".events"
        wire = upstream_wire(
            event_id=str(uuid.uuid4()),
            event_type=t,
            tenant_id=TENANT,
            timestamp=datetime.now(UTC),
            identity=ident,
            payload=payload,
        )
        return topic, key, wire


async def _publish(
    producer,
    topics: TopicNames,
    events: list[tuple[str, str, bytes]],  # noqa: ANN001
    rate: float | None,
) -> list[float]:
    """Send events (paced at `rate`/s when given); returns each event's send time."""
    sent: list[float] = []
    futures = []
    start = time.time()
    chunk = 200
    for i in range(0, len(events), chunk):
        if rate:
            due = start + i / rate
            if (delay := due - time.time()) > 0:
                await asyncio.sleep(delay)
        now = time.time()
        for topic, key, value in events[i : i + chunk]:
            futures.append(await producer.send(topics(topic), value=value, key=key.encode()))
            sent.append(now)
    await asyncio.gather(*futures)
    return sent


async def _wait_applied(conn: asyncpg.Connection, n: int, timeout: float) -> int:
    deadline = time.time() + timeout
    count = 0
    while time.time() < deadline:
        count = await conn.fetchval("SELECT count(*) FROM event_log")
        if count >= n:
            return count
        await asyncio.sleep(0.2)
    return count


async def _commit_times(conn: asyncpg.Connection, since_id: int) -> list[tuple[str, float]]:
    """(event id, commit time) for rows after `since_id`. A batch commits right after its last insert, so the
    latest applied_at of the rows a transaction wrote (same xmin) stands for its commit time."""
    rows = await conn.fetch(
        """
        SELECT event_id, extract(epoch FROM max(applied_at) OVER (PARTITION BY xmin::text)) AS committed
          FROM event_log WHERE id > $1
    """,
        since_id,
    )
    return [(r["event_id"], float(r["committed"])) for r in rows]


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (Linux /proc), in seconds; gone processes count 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


async def _db_backends(conn: asyncpg.Connection, db_name: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db_name
    )
    return [r["pid"] for r in rows]


async def _steady(
    conn: asyncpg.Connection,
    producer,
    topics: TopicNames,  # noqa: ANN001
    events: list[tuple[str, str, bytes]],
    rate: float,
    expect: int,
) -> tuple[float, float, list[float]]:
    """Publish at `rate`; (offered rate, sustained rate to commit, publish->commit latencies)."""
    mark = await conn.fetchval("SELECT max(id) FROM event_log")
    t0 = time.time()
    sent = await _publish(producer, topics, events, rate)
    offered = len(events) / (time.time() - t0)
    await _wait_applied(conn, expect, 300)
    commits = dict(await _commit_times(conn, mark))
    lat = [
        commits[_event_id(v)] - s
        for (_, _, v), s in zip(events, sent, strict=True)
        if _event_id(v) in commits
    ]
    sustained = len(lat) / max(1e-6, max(commits.values(), default=t0) - t0)
    return offered, sustained, lat


def _event_id(value: bytes) -> str:
    return value[8:44].decode()  # upstream_wire starts with {"id": "<uuid>"


# uvicorn restores the SIGTERM handler it found and raises the signal again once shut down: this one writes the file.
_PROFILED = """
import cProfile, runpy, signal, sys
prof = cProfile.Profile()
def stop(*_):
    prof.disable()
    prof.dump_stats(sys.argv[1])
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
prof.enable()
runpy.run_module("fairway_identity", run_name="__main__")
"""


def _start_service(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """The identity service in its own process, as it runs in production."""
    # FAIRWAY_BENCH_PROFILE=FILE runs it under cProfile, written when the service stops, to see where CPU goes.
    profile = os.environ.get("FAIRWAY_BENCH_PROFILE")
    return subprocess.Popen(
        [sys.executable, "-c", _PROFILED, profile] if profile else [sys.executable, "-m", "fairway_identity"],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def main() -> None:
    async with bench_env() as env:
        url = await env.fresh_database("identity")
        db_name = url.rsplit("/", 1)[1]
        prefix = f"bench{secrets.token_hex(4)}."
        topics = TopicNames(prefix)
        await create_topics(env.bootstrap, topics)
        base_env = {
            **os.environ,
            "FAIRWAY_IDENTITY_DATABASE_URL": env.pg_server_url,
            "FAIRWAY_IDENTITY_DATABASE_NAME": db_name,
            "FAIRWAY_IDENTITY_KAFKA_BOOTSTRAP": env.bootstrap,
            "FAIRWAY_IDENTITY_TOPIC_PREFIX": prefix,
            "FAIRWAY_JWT_SECRET": secrets.token_hex(24),
            "FAIRWAY_IDENTITY_LOG_LEVEL": "WARNING",
            "FAIRWAY_IDENTITY_KAFKA_SESSION_TIMEOUT_MS": "3000",
        }
        services: list[subprocess.Popen[bytes]] = []
        ports: list[int] = []

        def start_replica() -> None:
            port = free_port()
            log_path = Path(tempfile.gettempdir()) / f"fairway-identity-bench-{port}.log"
            services.append(_start_service({**base_env, "FAIRWAY_IDENTITY_PORT": str(port)}, log_path))
            ports.append(port)
            print(f"  service log: {log_path}", flush=True)

        start_replica()
        mix = Mix()
        warm = [mix.next() for _ in range(200)]  # generated first: the stream is published in this order
        warm_more = [mix.next() for _ in range(200)]
        drain = [mix.next() for _ in range(DRAIN_EVENTS)]
        steady = [mix.next() for _ in range(int(STEADY_RATE * STEADY_SECONDS))]
        producer = make_producer(env.bootstrap, client_id="identity-bench")
        await producer.start()
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            # Wait for the service: its migration creates event_log; a first event proves the consumer runs.
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    await conn.fetchval("SELECT 1 FROM event_log LIMIT 1")
                    break
                except asyncpg.UndefinedTableError:
                    await asyncio.sleep(0.5)
            await _publish(producer, topics, warm, None)
            if await _wait_applied(conn, len(warm), 60) < len(warm):
                raise SystemExit("the identity service did not consume its first events")
            # The other replicas start once the schema exists, then the group rebalances over all of them.
            for _ in range(REPLICAS - 1):
                start_replica()
            for port in ports:
                await wait_http(f"http://127.0.0.1:{port}/healthz")
            await asyncio.sleep(6)  # two session timeouts: every member has its partitions
            await _publish(producer, topics, warm_more, None)
            if await _wait_applied(conn, len(warm) + len(warm_more), 60) < len(warm) + len(warm_more):
                raise SystemExit("the identity replicas did not consume")
            warm = warm + warm_more
            pids = [svc.pid for svc in services]
            print(f"  {len(services)} identity replica(s)", flush=True)

            # 1. Drain a backlog as fast as the service can.
            mark = await conn.fetchval("SELECT max(id) FROM event_log")
            backends = await _db_backends(conn, db_name)
            cpu0 = (_cpu_seconds(pids), _cpu_seconds(backends))
            t0 = time.time()
            await _publish(producer, topics, drain, None)
            published = time.time() - t0
            done = await _wait_applied(conn, len(warm) + len(drain), 300)
            first, last = await conn.fetchrow(
                "SELECT extract(epoch FROM min(applied_at)), extract(epoch FROM max(applied_at)) FROM event_log "
                "WHERE id > $1",
                mark,
            )
            drained = done - len(warm)
            svc_cpu = _cpu_seconds(pids) - cpu0[0]
            db_cpu = _cpu_seconds(backends) - cpu0[1]
            report(
                "identity drain throughput (events/s to committed profiles)",
                drained / max(1e-6, float(last) - t0),
                "events/s",
                ">= 12,000",
            )
            print(
                f"  {drained:,} events; published in {published:.1f}s; last committed "
                f"{float(last) - t0:.1f}s after the first publish; load average {os.getloadavg()[0]:.1f} "
                f"on {os.cpu_count()} cores",
                flush=True,
            )
            report(
                "identity service CPU per event (all replicas: consumers + relay)",
                svc_cpu / drained * 1e6,
                "us",
            )
            report("identity PostgreSQL CPU per event", db_cpu / drained * 1e6, "us")
            report(
                "identity throughput bound on one free core per process (service CPU only)",
                drained / max(1e-6, svc_cpu),
                "events/s",
            )

            # 2. Steady load at the target rate, then 3. at half the drain rate (below saturation).
            drain_rate = drained / max(1e-6, float(last) - t0)
            applied = len(warm) + len(drain)
            for label, events, rate, target in (
                (f"at {STEADY_RATE:,}/s", steady, STEADY_RATE, "< 2 s"),
                (
                    "at half the drain rate",
                    [mix.next() for _ in range(int(drain_rate / 2 * STEADY_SECONDS))],
                    drain_rate / 2,
                    None,
                ),
            ):
                applied += len(events)
                offered, sustained, lat = await _steady(conn, producer, topics, events, rate, applied)
                report(f"identity steady load {label}: offered", offered, "events/s")
                report(
                    f"identity steady load {label}: sustained to committed profiles",
                    sustained,
                    "events/s",
                    ">= 12,000" if target else None,
                )
                report(f"identity steady load {label}: publish->commit p50", percentile(lat, 50), "s")
                report(f"identity steady load {label}: publish->commit p99", percentile(lat, 99), "s", target)

            people = len(mix.people)
            profiles = await conn.fetchval("SELECT count(*) FROM profile WHERE status <> 'MERGED'")
            done = await conn.fetchval("SELECT count(*) FROM event_log")
            candidates = await conn.fetchval("SELECT count(*) FROM merge_candidate")
            report("identity profiles created / people introduced", profiles / people, "ratio", "1.00")
            print(
                f"  {profiles:,} profiles for {people:,} people; {candidates} merge candidates; "
                f"{done:,} events applied",
                flush=True,
            )
        finally:
            await conn.close()
            await producer.stop()
            for svc in services:
                svc.terminate()
            for svc in services:
                try:
                    svc.wait(20)
                except subprocess.TimeoutExpired:
                    svc.kill()


if __name__ == "__main__":
    asyncio.run(main())
