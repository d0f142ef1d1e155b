"""`python -m fairway_bench.journeys`: trigger events enrolling members, and 100,000 timers falling due in one
minute. Prints figures; asserts nothing.

1. Enrolment: a running journeys service knows N_PROFILES members (announced on crm.identity) and has an active
   journey started by teetime.booking.created, keyed by booking id (SEND, then a WAIT). N_TRIGGERS bookings are
   produced while the service is stopped; it starts again and the rate is measured from the first run committed
   to the last (so the consumer group's join is not counted). Each run: identity keys resolved, entry rules
   checked, run inserted, the SEND's dispatch request and the WAIT's timer written, events in the outbox.
2. Timers: N_TIMERS runs wait at a WAIT whose timers fall due spread over one minute starting LEAD seconds from
   now; the rows are written as the engine writes them, and the procrastinate jobs deferred as the engine defers
   them (one per tenant and second). The running service's worker fires them; per timer, lag = when its WAIT step
   completed - when it was due. Also counted: timers fired twice (step rows per run), and timers left.
"""
from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from asgi_lifespan import LifespanManager
from sqlalchemy import text

from fairway_bench.benchkit import bench_env, percentile, report
from fairway_chassis.gc_tuning import tune_gc
from fairway_events import TopicNames
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileCreated, ProfileSnapshot
from fairway_events.envelope import new_event_id, upstream_wire
from fairway_events.kafka import create_topics, make_producer
from fairway_events.registry import registry
from fairway_journeys.app import create_app
from fairway_journeys.definitions import service as definitions
from fairway_journeys.definitions.schemas import JourneyIn
from fairway_journeys.jobs import JobsTimerScheduler
from fairway_journeys.settings import Settings
from fairway_testkit import TEST_JWT_SECRET

TENANT = "bench-club"
N_PROFILES = 5_000
N_TRIGGERS = 20_000
N_TIMERS = 100_000
LEAD = 60  # seconds from seeding to the first timer falling due
REMINDER = {
    "trigger": {"type": "event", "eventType": "teetime.booking.created", "key": "bookingId"},
    "entry": {"reentry": False, "oneActiveRun": False},
    "steps": [
        {"id": "confirm", "type": "SEND", "channel": "EMAIL", "templateId": "booking-confirmation", "next": "wait"},
        {"id": "wait", "type": "WAIT", "kind": "duration", "duration": "1 day", "next": "end"},
        {"id": "end", "type": "END"},
    ],
}
TIMED = {
    "trigger": {"type": "manual"},
    "steps": [{"id": "wait", "type": "WAIT", "kind": "duration", "duration": "1 minute", "next": "end"},
              {"id": "end", "type": "END"}],
}


def email(i: int) -> str:
    return f"golfer{i:05d}@stonehavengolf.co.uk"


async def scalar(app, sql: str, **params) -> int:  # noqa: ANN001
    async with app.state.runtime.sessionmaker() as s:
        return (await s.execute(text(sql), params)).scalar() or 0


async def until(count, target: int, seconds: float, *, down: bool = False) -> None:  # noqa: ANN001
    """Poll `count()` until it reaches `target` (or falls to it, `down`), for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        n = await count()
        if (n <= target if down else n >= target) or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)


async def journey(app, definition: dict, name: str) -> str:  # noqa: ANN001
    async with app.state.runtime.sessionmaker() as s, s.begin():
        now = datetime.now(UTC)
        j = await definitions.create(s, TENANT, "bench", JourneyIn(name=name, definition=definition), now)
        await definitions.activate(s, TENANT, j.id, now)
    return j.id


async def enrolment(settings: Settings, topics: TopicNames, producer) -> None:  # noqa: ANN001
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30):
        tune_gc()
        await journey(app, REMINDER, "Booking reminder")
        for i in range(N_PROFILES):
            env = registry.envelope(ProfileCreated(profile=ProfileSnapshot(
                profileId=f"p{i}", status="ACTIVE", identities=Identities(email=[email(i)]), attributes=Attributes(),
                consent=Consent(emailOptIn=True))), tenant_id=TENANT, aggregate_id=f"p{i}", source="bench")
            await producer.send(topics("crm.identity"), env.to_wire(), key=f"p{i}".encode())
        await producer.flush()
        await until(lambda: scalar(app, "SELECT count(*) FROM member_keys"), N_PROFILES, 600)
    rng = random.Random(7)
    for n in range(N_TRIGGERS):
        i = rng.randrange(N_PROFILES)
        body = upstream_wire(event_id=new_event_id(), event_type="teetime.booking.created", tenant_id=TENANT,
                             timestamp=datetime.now(UTC), identity={"email": email(i)},
                             payload={"bookingId": f"BK{n}", "courseName": "Old Course"})
        await producer.send(topics("teetime.events"), body, key=email(i).encode())
    await producer.flush()
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30):
        tune_gc()
        await until(lambda: scalar(app, "SELECT count(*) FROM runs"), N_TRIGGERS, 900)
        n = await scalar(app, "SELECT count(*) FROM runs")
        first, last = (await _span(app, "SELECT min(started_at), max(started_at) FROM runs"))
        report("journeys.trigger_events_enrolled_per_s", n / max(1e-6, (last - first).total_seconds()),
               "runs/s", ">= 1,000 trigger events/s")


async def _span(app, sql: str) -> tuple[datetime, datetime]:  # noqa: ANN001
    async with app.state.runtime.sessionmaker() as s:
        row = (await s.execute(text(sql))).one()
    return row[0], row[1]


async def timers(settings: Settings) -> None:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30):
        tune_gc()
        jid = await journey(app, TIMED, "Timer bench")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=LEAD)
        t0 = time.perf_counter()
        async with app.state.runtime.sessionmaker() as s, s.begin():
            params = {"t": TENANT, "j": jid, "n": N_TIMERS, "start": start, "now": datetime.now(UTC)}
            await s.execute(text(
                "INSERT INTO runs (id, tenant_id, journey_id, version, profile_id, entry_key, status, step_id, seq,"
                " waiting, step_entered_at, started_at, trigger, context)"
                " SELECT 'bench-' || g, :t, :j, 1, 'p' || g, 'once', 'ACTIVE', 'wait', 1, 'timer', :now, :now,"
                " 'api', '{}'::jsonb FROM generate_series(1, :n) g"), params)
            await s.execute(text(
                "INSERT INTO run_steps (run_id, seq, tenant_id, journey_id, version, step_id, step_type, entered_at)"
                " SELECT 'bench-' || g, 1, :t, :j, 1, 'wait', 'WAIT', :now FROM generate_series(1, :n) g"), params)
            await s.execute(text(
                "INSERT INTO run_timers (run_id, tenant_id, seq, due_at) SELECT 'bench-' || g, :t, 1,"
                " CAST(:start AS timestamptz) + (g % 60000) * interval '1 millisecond' FROM generate_series(1, :n) g"), params)
            due = [start + timedelta(milliseconds=ms) for ms in range(0, 60_000, 500)]
            await JobsTimerScheduler(app.state.runtime.jobs).schedule(s, TENANT, due)
        report("journeys.timers_seeded_in", time.perf_counter() - t0, "s")
        await until(lambda: scalar(app, "SELECT count(*) FROM run_timers"), 0, LEAD + 60 + 120, down=True)
        async with app.state.runtime.sessionmaker() as s:
            lags = [float(r[0]) for r in (await s.execute(text(
                "SELECT extract(epoch FROM st.completed_at - (CAST(:start AS timestamptz) + (substr(st.run_id, 7)::int % 60000)"
                " * interval '1 millisecond')) FROM run_steps st WHERE st.step_id = 'wait' AND st.completed_at"
                " IS NOT NULL"), {"start": start})).all()]
            twice = (await s.execute(text(
                "SELECT count(*) FROM (SELECT run_id FROM run_steps WHERE step_id = 'end' GROUP BY run_id"
                " HAVING count(*) > 1) x"))).scalar()
            left = (await s.execute(text("SELECT count(*) FROM run_timers"))).scalar()
            early = sum(1 for lag in lags if lag < 0)
        report("journeys.timers_fired", len(lags), "timers", f"{N_TIMERS:,} due in one minute")
        report("journeys.timer_lag_p50", percentile(lags, 50), "s")
        report("journeys.timer_lag_p99", percentile(lags, 99), "s", "all within 60 s")
        report("journeys.timer_lag_max", max(lags) if lags else float("nan"), "s", "< 60 s")
        report("journeys.timers_fired_twice", twice or 0, "runs", "0")
        report("journeys.timers_fired_early", early, "timers", "0")
        report("journeys.timers_left_unfired", left or 0, "timers", "0")


async def run(parts: list[str]) -> None:
    rng = random.Random()
    async with bench_env() as env:
        for label, part in (("enrol", "enrolment"), ("timers", "timers")):
            if parts and part not in parts:
                continue
            url = await env.fresh_database(f"journeys_{label}")
            topics = TopicNames(f"bench{rng.randrange(10**6)}.")
            settings = Settings(database_url=url, database_name=url.rsplit("/", 1)[1], kafka_bootstrap=env.bootstrap,
                                topic_prefix=topics.prefix, jwt_secret=TEST_JWT_SECRET, log_level="WARNING",
                                kafka_session_timeout_ms=3000)
            await create_topics(env.bootstrap, topics)
            if part == "enrolment":
                producer = make_producer(env.bootstrap, client_id="journeys-bench")
                await producer.start()
                try:
                    await enrolment(settings, topics, producer)
                finally:
                    await producer.stop()
            else:
                await timers(settings)


def main() -> None:
    import sys

    asyncio.run(run(sys.argv[1:]))  # "enrolment", "timers", or both when none is named


if __name__ == "__main__":
    main()
