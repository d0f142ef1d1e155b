"""`python -m fairway_bench.timeline`: activities/s from upstream events to committed rows, and the latency of a
timeline page for a profile with 10,000 activities. Prints figures; asserts nothing.

1. A running timeline learns N_PROFILES profiles from crm.identity (as identity would announce them).
2. With the service stopped, N_EVENTS upstream events are produced (a club's mix of bookings, rounds, emails,
   payments; keys by email, phone or member id; a few for people identity has not announced yet), including
   HEAVY_EVENTS for one member, who ends up with that many activities.
3. The service starts again; throughput is measured from the first committed activity to the last, so the
   consumer group join is not counted.
4. Timeline pages of the heavy member are requested through the app in-process (auth, validation, SQL, JSON):
   the first page, pages deep in the cursor walk, and a filtered page.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime, timedelta

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, text

from fairway_bench.benchkit import bench_env, percentile, report
from fairway_chassis.gc_tuning import tune_gc
from fairway_events import TopicNames, registry
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileCreated, ProfileSnapshot
from fairway_events.envelope import new_event_id, upstream_wire
from fairway_events.kafka import create_topics, make_producer
from fairway_testkit import TEST_JWT_SECRET, auth_headers
from fairway_timeline.app import create_app
from fairway_timeline.db import activities, outbox_table, profiles
from fairway_timeline.settings import Settings

TENANT = "bench-club"
N_PROFILES = 2_000
N_EVENTS = 40_000  # including HEAVY_EVENTS
HEAVY_EVENTS = 10_000
UNKNOWN_SHARE = 0.03  # events for people identity has not announced: they stay pending
PAGE_REQUESTS = 300
MIX = [  # (upstream type, topic, weight, payload)
    (
        "teetime.booking.created",
        "teetime.events",
        20,
        lambda i: {"bookingId": f"b{i}", "courseName": "Old Course"},
    ),
    ("teetime.round.played", "teetime.events", 15, lambda i: {"roundId": f"r{i}", "score": 80}),
    ("messaging.email.sent", "messaging.events", 25, lambda i: {"messageId": f"m{i}", "subject": "News"}),
    (
        "messaging.email.delivered",
        "messaging.events",
        20,
        lambda i: {"messageId": f"m{i}", "subject": "News"},
    ),
    ("messaging.sms.sent", "messaging.events", 5, lambda i: {"messageId": f"s{i}"}),
    ("messaging.email.opened", "messaging.events", 15, lambda i: {"messageId": f"m{i}", "subject": "News"}),
    (
        "messaging.email.clicked",
        "messaging.events",
        5,
        lambda i: {"messageId": f"m{i}", "url": "https://club"},
    ),
    ("scl.payment.received", "scl.events", 10, lambda i: {"paymentId": f"p{i}", "amount": "450.00"}),
    ("teetime.purchase.completed", "teetime.events", 10, lambda i: {"purchaseId": f"s{i}", "amount": "120"}),
]


def person(i: int) -> dict[str, str]:
    return {
        "email": f"member{i}@club.example",
        "phoneNumber": f"+2782{i:07d}",
        "sclMemberId": str(10_000 + i),
    }


def identity_events(n: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        p = person(i)
        snap = ProfileSnapshot(
            profileId=f"p{i}",
            status="ACTIVE",
            attributes=Attributes(),
            consent=Consent(),
            identities=Identities(
                email=[p["email"]], phoneNumber=[p["phoneNumber"]], sclMemberId=[p["sclMemberId"]]
            ),
        )
        env = registry.envelope(
            ProfileCreated(profile=snap), tenant_id=TENANT, aggregate_id=f"p{i}", source="identity"
        )
        out.append((f"p{i}", env.to_wire()))
    return out


def upstream_events(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """(topic, key, bytes) in a shuffled order; member 0 is the heavy one."""
    now = datetime.now(UTC)
    weights = [w for _, _, w, _ in MIX]
    out = []
    for i in range(N_EVENTS):
        if i < HEAVY_EVENTS:
            who = 0
        elif rng.random() < UNKNOWN_SHARE:
            who = N_PROFILES + i  # not announced by identity
        else:
            who = rng.randrange(1, N_PROFILES)
        key_type = rng.choice(["email", "phoneNumber", "sclMemberId"])
        hint = {key_type: person(who)[key_type]}
        event_type, topic, _, payload = rng.choices(MIX, weights)[0]
        at = now - timedelta(minutes=rng.randrange(0, 200 * 24 * 60))
        body = upstream_wire(
            event_id=new_event_id(),
            event_type=event_type,
            tenant_id=TENANT,
            timestamp=at,
            identity=hint,
            payload=payload(i),
        )
        out.append((topic, hint[key_type], body))
    rng.shuffle(out)
    return out


async def count(app, table, *where) -> int:  # noqa: ANN001, ANN002
    async with app.state.runtime.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def timed_get(http: httpx.AsyncClient, url: str, params: dict, headers: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    r = await http.get(url, params=params, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    assert r.status_code == 200, r.text
    return elapsed, r.json()


async def run() -> None:
    rng = random.Random(7)
    async with bench_env() as env:
        url = await env.fresh_database("timeline")
        name = url.rsplit("/", 1)[1]
        topics = TopicNames(f"bench{rng.randrange(10**6)}.")
        settings = Settings(
            database_url=url,
            database_name=name,
            kafka_bootstrap=env.bootstrap,
            topic_prefix=topics.prefix,
            jwt_secret=TEST_JWT_SECRET,
            log_level="WARNING",
            kafka_session_timeout_ms=3000,
            sweep_interval_seconds=30,
        )
        await create_topics(env.bootstrap, topics)
        producer = make_producer(env.bootstrap, client_id="timeline-bench")
        await producer.start()
        try:
            # 1. identity announces the club's members
            app = create_app(settings)
            async with LifespanManager(app, startup_timeout=90, shutdown_timeout=30):
                tune_gc()  # as the service's own process does
                futures = [
                    await producer.send(topics("crm.identity"), body, key=key.encode())
                    for key, body in identity_events(N_PROFILES)
                ]
                await asyncio.gather(*futures)
                while True:
                    if await count(app, profiles) >= N_PROFILES:
                        break
                    await asyncio.sleep(0.1)

            # 2. upstream events pile up while the service is down
            events = upstream_events(rng)
            start = time.perf_counter()
            futures = [
                await producer.send(topics(topic), body, key=key.encode()) for topic, key, body in events
            ]
            await asyncio.gather(*futures)
            print(
                f"   produced {N_EVENTS:,} upstream events in {time.perf_counter() - start:.1f}s", flush=True
            )

            # 3. the service drains them
            app = create_app(settings)
            async with LifespanManager(app, startup_timeout=90, shutdown_timeout=30):
                first = first_n = None
                while True:
                    n = await count(app, activities)
                    if n and first is None:
                        first, first_n = time.perf_counter(), n
                    if n >= N_EVENTS:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - first
                report(
                    "timeline.ingest_throughput",
                    (N_EVENTS - first_n) / elapsed,
                    "activities/s",
                    "upstream events -> committed activities with counters, 2 cores shared",
                )

                # 4. page latency for the member with 10,000 activities, in steady state: the relay has published
                # the counters the load produced, and autovacuum has caught up (done here by hand, as it would
                # be minutes after a bulk load), so counting is an index-only scan.
                while True:
                    if await count(app, outbox_table, outbox_table.c.published_at.is_(None)) == 0:
                        break
                    await asyncio.sleep(0.1)
                async with app.state.runtime.engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("VACUUM ANALYZE"))
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                    headers = auth_headers(TENANT, ["staff"], "bench")
                    url_ = "/api/v1/customers/p0/timeline"
                    _, page = await timed_get(http, url_, {"limit": 50}, headers)
                    print(
                        f"   heavy member: {page['total']:,} activities; load average {os.getloadavg()[0]:.1f} "
                        f"on {os.cpu_count()} cores",
                        flush=True,
                    )
                    cpu_start = time.process_time()
                    first_page = [
                        (await timed_get(http, url_, {"limit": 50}, headers))[0] for _ in range(PAGE_REQUESTS)
                    ]
                    deep, cursor = [], None
                    while len(deep) < PAGE_REQUESTS:
                        ms, page = await timed_get(
                            http, url_, {"limit": 50, **({"cursor": cursor} if cursor else {})}, headers
                        )
                        deep.append(ms)
                        cursor = page["nextCursor"]
                    filtered = [
                        (
                            await timed_get(
                                http,
                                url_,
                                {"limit": 50, "categories": "BOOKING,GOLF", "startDate": "2020-01-01"},
                                headers,
                            )
                        )[0]
                        for _ in range(PAGE_REQUESTS)
                    ]
                # The service's own CPU per request (background loops included): what a page costs when the
                # machine is not shared; the wall-clock figures above also hold the wait for a free core.
                report(
                    "timeline.page_cpu_per_request",
                    (time.process_time() - cpu_start) * 1000 / (3 * PAGE_REQUESTS),
                    "ms",
                )
                for label, values in (
                    ("first_page", first_page),
                    ("cursor_walk", deep),
                    ("filtered", filtered),
                ):
                    report(f"timeline.page_latency_{label}_p50", percentile(values, 50), "ms")
                    report(f"timeline.page_latency_{label}_p99", percentile(values, 99), "ms", "p99 < 20 ms")
        finally:
            await producer.stop()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
