"""Segmentation benchmark: `python -m fairway_bench.segmentation`.

1. Bulk-loads a read model of N profiles (default 1,000,000; FAIRWAY_BENCH_SEG_PROFILES) with COPY.
2. Creates a typical dynamic segment ("Gold members who haven't played in 30 days", synced to Messaging):
   its first evaluation puts ~5% of the club in it.
3. Latency: profile changes (timeline counters) sent to the real broker, each moving one person in or out;
   the time until segment.member_entered / exited arrives on crm.segmentation. p50 / p99.
4. Full refresh over all N profiles, steady state (some of the club changed since); with
   FAIRWAY_BENCH_SEG_BROAD=1 also a broad segment's first evaluation (about half the club entering, every
   event and Messaging delta written: the worst case).
Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from fairway_bench.benchkit import bench_env, percentile, report
from fairway_chassis.gc_tuning import tune_gc
from fairway_events import registry
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_events.envelope import decode_raw
from fairway_events.kafka import make_producer
from fairway_segmentation.app import create_app
from fairway_segmentation.settings import Settings
from fairway_testkit import auth_headers, run_service, wait_for
from fairway_testkit.helpers import TEST_JWT_SECRET

N = int(os.environ.get("FAIRWAY_BENCH_SEG_PROFILES", "1000000"))
CHANGES = int(os.environ.get("FAIRWAY_BENCH_SEG_CHANGES", "300"))
# The worst case (a new segment half the club enters: 500k events) takes long; opt in with =1.
BROAD_TOO = os.environ.get("FAIRWAY_BENCH_SEG_BROAD", "") == "1"
TENANT = "bench-club"
TIERS = ["Bronze"] * 4 + ["Silver"] * 3 + ["Gold"] * 2 + ["Platinum"]
TAGS = [[], [], ["vip"], ["junior"], ["senior"], ["vip", "senior"], ["social"]]
COLUMNS = [
    "tenant_id",
    "profile_id",
    "status",
    "lifecycle_stage",
    "membership_tier",
    "membership_status",
    "member_since",
    "membership_expiry",
    "handicap",
    "lifetime_value",
    "email_opt_in",
    "sms_opt_in",
    "tags",
    "email",
    "emails",
    "messaging_contact_id",
    "activity_count_30d",
    "booking_count_30d",
    "booking_count_90d",
    "last_booking_at",
    "last_activity_at",
    "last_email_click_at",
    "counters_as_of",
    "engagement_score",
    "churn_risk_score",
    "risk_level",
]
LAPSED = {
    "combinator": "AND",
    "rules": [
        {"field": "membershipTier", "operator": "eq", "value": "Gold"},
        {"field": "lastBookingAt", "operator": "lt", "value": {"relative": "-30 days"}},
    ],
}
BROAD = {
    "combinator": "OR",
    "rules": [
        {"field": "emailOptIn", "operator": "eq", "value": True},
        {
            "combinator": "AND",
            "rules": [
                {"field": "tags", "operator": "contains", "value": "vip"},
                {"field": "handicap", "operator": "between", "value": [0, 18]},
            ],
        },
    ],
}


def profiles(now: datetime, chunk: int = 20000) -> Iterator[bytes]:
    """N synthetic people as COPY text-format lines (tab-separated, NULL as \\N), values drawn from pools.

    Formatting text here and letting the server parse it is several times faster than encoding records in
    Python; none of the generated values needs escaping."""
    rnd = random.Random(42)
    today = now.date()
    days = [str(today - timedelta(days=d)) for d in range(3650)]
    ahead = [str(today + timedelta(days=d)) for d in range(-60, 365)]
    moments = [(now - timedelta(minutes=m)).isoformat() for m in range(0, 120 * 1440, 7)]
    recent = moments[: len(moments) // 2]
    handicaps = [str(h / 10) for h in range(361)]
    tags = ["{" + ",".join(t) + "}" for t in TAGS]
    now_s = now.isoformat()
    lines: list[str] = []
    choice, rand = rnd.choice, rnd.random
    for i in range(N):
        booked = choice(moments) if rand() < 0.9 else "\\N"
        email = f"p{i}@club.test"
        lines.append(
            f"{TENANT}\tp{i:07d}\t{'ACTIVE' if rand() < 0.95 else 'INACTIVE'}\tCUSTOMER\t{TIERS[i % 10]}\tACTIVE\t"
            f"{choice(days)}\t{choice(ahead)}\t{choice(handicaps)}\t{int(rand() * 500_000)}\t"
            f"{'t' if rand() < 0.5 else 'f'}\t{'t' if rand() < 0.3 else 'f'}\t{tags[i % 7]}\t{email}\t{{{email}}}\t"
            f"mc{i}\t{int(rand() * 8)}\t{int(rand() * 4)}\t{int(rand() * 10)}\t{booked}\t{booked}\t"
            f"{choice(recent)}\t{now_s}\t{rand() * 100:.3f}\t{rand() * 100:.3f}\tLOW\n"
        )
        if len(lines) == chunk:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


# Dropped for the bulk load and built again after it, as one does for any bulk load.
DROP = [
    "ALTER TABLE profiles DROP CONSTRAINT pk_profiles",
    "DROP INDEX ix_profiles_emails",
    "DROP INDEX ix_profiles_scl_member_ids",
    "DROP INDEX ix_profiles_membership_number",
]
BUILD = [
    "ALTER TABLE profiles ADD CONSTRAINT pk_profiles PRIMARY KEY (tenant_id, profile_id)",
    "CREATE INDEX ix_profiles_emails ON profiles USING gin (emails)",
    "CREATE INDEX ix_profiles_scl_member_ids ON profiles USING gin (scl_member_ids)",
    "CREATE INDEX ix_profiles_membership_number ON profiles (tenant_id, lower(membership_number))",
    # A read model that has lived a while is vacuumed: without this the first scan after COPY pays for
    # setting every row's hint bits, which no later refresh does.
    "VACUUM (ANALYZE) profiles",
]


async def load(dsn: str, now: datetime) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        for ddl in DROP:
            await conn.execute(ddl)

        async def source():  # noqa: ANN202
            # The next block is formatted in a thread while the server parses this one.
            blocks = profiles(now)
            pending = asyncio.ensure_future(asyncio.to_thread(next, blocks, None))
            while (block := await pending) is not None:
                pending = asyncio.ensure_future(asyncio.to_thread(next, blocks, None))
                yield block

        await conn.copy_to_table("profiles", source=source(), columns=COLUMNS, format="text")
        for ddl in BUILD:
            await conn.execute(ddl)
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def main() -> None:
    now = datetime.now(UTC)
    async with bench_env() as env:
        url = await env.fresh_database("segmentation")
        db = url.rsplit("/", 1)[1]
        settings = Settings(
            database_url=env.pg_server_url,
            database_name=db,
            kafka_bootstrap=env.bootstrap,
            topic_prefix=f"b{uuid.uuid4().hex[:8]}.",
            jwt_secret=TEST_JWT_SECRET,
            log_json=False,
            log_level=os.environ.get("FAIRWAY_BENCH_LOG_LEVEL", "WARNING"),
            maintenance=False,
            db_pool_size=5,
        )
        async with run_service(create_app(settings)) as svc:
            tune_gc()  # as the service's own process does
            h = auth_headers(TENANT, ["marketer"])
            seconds = await load(url.replace("+asyncpg", ""), now)
            report("segmentation.load_read_model_copy", N / seconds, "profiles/s")

            t0 = time.perf_counter()
            r = await svc.http.post(
                "/api/v1/segments",
                headers=h,
                json={"name": "Lapsed gold", "criteria": LAPSED, "syncToMessaging": True},
            )
            created = time.perf_counter() - t0
            assert r.status_code == 201, r.text
            lapsed = r.json()
            report(f"segmentation.first_refresh_{lapsed['memberCount']}_enter_of_{N}", created, "s", "<= 5 s")

            await drain(svc)
            p50, p99, n = await latency(svc, settings, now)
            report(f"segmentation.change_to_event_p50 (n={n})", p50 * 1000, "ms")
            report(f"segmentation.change_to_event_p99 (n={n})", p99 * 1000, "ms", "<= 1000 ms")

            async with svc.runtime.engine.begin() as conn:  # type: ignore[union-attr]
                from sqlalchemy import text

                await conn.execute(
                    text(
                        "UPDATE profiles SET last_booking_at = CASE WHEN last_booking_at > now() - interval '30 days' "
                        "THEN last_booking_at - interval '45 days' ELSE now() END "
                        "WHERE tenant_id = :t AND membership_tier = 'Gold' AND random() < 0.05"
                    ),
                    {"t": TENANT},
                )
            t0 = time.perf_counter()
            r = await svc.http.post(f"/api/v1/segments/{lapsed['id']}/refresh", headers=h)
            steady = time.perf_counter() - t0
            out = r.json()
            report(
                f"segmentation.full_refresh_{N}_profiles (+{out['entered']} -{out['exited']})",
                steady,
                "s",
                "<= 5 s",
            )

            if BROAD_TOO:
                t0 = time.perf_counter()
                r = await svc.http.post(
                    "/api/v1/segments",
                    headers=h,
                    json={"name": "Broad", "criteria": BROAD, "syncToMessaging": True},
                )
                broad = time.perf_counter() - t0
                report(
                    f"segmentation.first_refresh_{r.json()['memberCount']}_enter_of_{N} (broad, worst case)",
                    broad,
                    "s",
                )
            t0 = time.perf_counter()
            await svc.http.post(
                "/api/v1/segments/preview", headers=h, json={"criteria": BROAD, "sampleSize": 10}
            )
            report(f"segmentation.preview_count_{N}_profiles", time.perf_counter() - t0, "s")


async def drain(svc) -> None:  # noqa: ANN001
    """Wait until the relay has published the first refresh's events (the outbox is one ordered stream)."""
    from sqlalchemy import text

    t0 = time.perf_counter()
    async with svc.runtime.engine.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM event_outbox"))).scalar_one()

    async def empty() -> bool:
        async with svc.runtime.engine.connect() as conn:
            return (
                await conn.execute(text("SELECT count(*) FROM event_outbox WHERE published_at IS NULL"))
            ).scalar_one() == 0

    await wait_for(empty, timeout=300, interval=0.2, what="outbox drained")
    report("segmentation.relay_publish", total / (time.perf_counter() - t0), "events/s")


async def latency(svc, settings: Settings, now: datetime) -> tuple[float, float, int]:  # noqa: ANN001
    """Send one counters change at a time (20 per second); each flips one person in or out of the segment."""
    from sqlalchemy import text

    async with svc.runtime.engine.connect() as conn:
        members = [
            r[0]
            for r in (
                await conn.execute(
                    text(
                        "SELECT profile_id FROM segment_members WHERE tenant_id = :t ORDER BY random() LIMIT :n"
                    ),
                    {"t": TENANT, "n": CHANGES // 2},
                )
            ).all()
        ]
        outsiders = [
            r[0]
            for r in (
                await conn.execute(
                    text(
                        "SELECT profile_id FROM profiles p WHERE tenant_id = :t AND membership_tier = 'Gold' "
                        "AND status = 'ACTIVE' AND last_booking_at > now() - interval '20 days' ORDER BY random() LIMIT :n"
                    ),
                    {"t": TENANT, "n": CHANGES - len(members)},
                )
            ).all()
        ]
    topic = svc.runtime.topics("crm.segmentation")
    # A short fetch wait, so the figure is the service's latency rather than this reader's polling.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    producer = make_producer(settings.kafka_bootstrap)
    await producer.start()
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)

        async def read() -> None:
            while True:
                batch = await consumer.getmany(timeout_ms=100)
                for records in batch.values():
                    for rec in records:
                        env = registry.validate(decode_raw(rec.value))
                        got.setdefault(env.payload.profileId, time.perf_counter())  # type: ignore[attr-defined]

        reader = asyncio.create_task(read())
        asof = now + timedelta(minutes=1)
        changes = [(p, now) for p in members] + [(p, now - timedelta(days=60)) for p in outsiders]
        random.Random(7).shuffle(changes)
        for pid, booked in changes:
            env = registry.envelope(
                TimelineCountersUpdated(
                    profileId=pid,
                    asOf=asof,
                    activityCount30d=1,
                    activityCount90d=1,
                    bookingCount30d=1,
                    bookingCount90d=1,
                    roundsPlayed30d=0,
                    roundsPlayed90d=0,
                    emailSends30d=0,
                    emailOpens30d=0,
                    emailClicks30d=0,
                    lastBookingAt=booked,
                ),
                tenant_id=TENANT,
                aggregate_id=pid,
                source="timeline",
            )
            sent[pid] = time.perf_counter()
            await producer.send_and_wait(
                svc.runtime.topics("crm.timeline"),
                env.to_wire(),
                key=pid.encode(),
                headers=[(k, v.encode()) for k, v in env.wire_headers().items()],
            )
            await asyncio.sleep(0.05)

        async def all_arrived() -> bool:
            return len(got.keys() & sent.keys()) == len(sent)

        try:
            await wait_for(all_arrived, timeout=30, what="every change's event")
        except AssertionError:
            pass  # reported below as changes without an event
        reader.cancel()
    finally:
        await producer.stop()
        await consumer.stop()
    lat = [got[p] - sent[p] for p in sent if p in got]
    if len(lat) < len(sent):
        report("segmentation.changes_without_event", len(sent) - len(lat), "changes")
    return percentile(lat, 50), percentile(lat, 99), len(lat)


if __name__ == "__main__":
    asyncio.run(main())
