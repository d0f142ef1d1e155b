"""Dispatch benchmark: `python -m fairway_bench.dispatch`.

A campaign to N recipients (default 100,000; FAIRWAY_BENCH_DISPATCH_RECIPIENTS) goes through dispatch in the
campaign fan-out's batches (FAIRWAY_BENCH_DISPATCH_BATCH, default 5,000), with the whole policy applied: 5% without
email opt-in, 3% without an address, a 5% control group, a daily email cap that a tenth of the club already
reached, and quiet hours that hold for the fifth of the club living in Europe/London right now. Timed from the first
submission until every send request is acknowledged by the broker (the outbox relay marks a row published only
after acks=all). Printed: wall time, requests per second, and the service process's CPU per recipient.

The read model (profiles, history) is bulk-loaded with COPY: building it from 100,000 identity events is the audience
consumer's job, not what this figure measures. Figures are printed, never asserted.
"""
from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text

from fairway_bench.benchkit import bench_env, report
from fairway_campaigns.app import create_app
from fairway_campaigns.dispatch.policy import Cap, DispatchSettings, QuietHours
from fairway_campaigns.dispatch.repository import DispatchRepository
from fairway_campaigns.settings import Settings
from fairway_chassis.gc_tuning import tune_gc
from fairway_events.contracts.dispatch import (
    DispatchContent,
    DispatchRequested,
    DispatchSource,
    dispatch_request_id,
)
from fairway_testkit import run_service, wait_for
from fairway_testkit.helpers import TEST_JWT_SECRET

N = int(os.environ.get("FAIRWAY_BENCH_DISPATCH_RECIPIENTS", "100000"))
BATCH = int(os.environ.get("FAIRWAY_BENCH_DISPATCH_BATCH", "5000"))
TENANT = "bench-club"
CAMPAIGN = "camp-bench-newsletter"


def _profile_rows(n: int) -> list[tuple]:
    rows = []
    for i in range(n):
        pid = f"bp-{i:07d}"
        zone = "Europe/London" if i % 5 == 0 else (None if i % 7 == 0 else "Africa/Johannesburg")
        email = None if i % 33 == 1 else f"member{i}@fairwaygolf.co.za"
        rows.append((TENANT, pid, "ACTIVE", False, email, None, None, i % 20 != 3, None, None, None, zone,
                     datetime.now(UTC)))
    return rows


def _history_rows(n: int, now: datetime) -> list[tuple]:
    """A tenth of the club had two emails from other campaigns today (their local day): the cap of 2 is reached."""
    rows = []
    for i in range(1, n, 10):  # never London (i % 5 == 0): they are held, and caps count on the day they go
        for k in range(2):
            zone = "Africa/Johannesburg"
            rows.append((str(uuid.uuid4()), TENANT, f"bp-{i:07d}", "EMAIL", "CAMPAIGN", f"camp-earlier-{k}", "c0",
                         False, False, False, now - timedelta(hours=1), "REQUESTED", now.astimezone(ZoneInfo(zone)).date(),
                         uuid.uuid4(), now, now))
    return rows


async def main() -> None:
    tune_gc()
    async with bench_env() as env:
        url = await env.fresh_database("dispatch")
        base, _, name = url.rpartition("/")
        settings = Settings(database_url=base + "/postgres", database_name=name, kafka_bootstrap=env.bootstrap,
                            topic_prefix=f"bench{uuid.uuid4().hex[:6]}.", jwt_secret=TEST_JWT_SECRET,
                            log_level="WARNING", log_json=False)
        app = create_app(settings)
        async with run_service(app) as svc:
            runtime = svc.runtime
            dsn = url.replace("+asyncpg", "")
            now = datetime.now(UTC)
            conn = await asyncpg.connect(dsn)
            try:
                await conn.copy_records_to_table("dispatch_profiles", records=_profile_rows(N), columns=[
                    "tenant_id", "profile_id", "status", "erased", "email", "phone_number", "messaging_contact_id",
                    "email_opt_in", "sms_opt_in", "push_opt_in", "ai_consent", "time_zone", "updated_at"])
                await conn.execute("INSERT INTO dispatch_contents VALUES ($1, 'c0', '{\"body\": \"earlier\"}')", TENANT)
                await conn.copy_records_to_table("dispatch_ledger", records=_history_rows(N, now), columns=[
                    "request_id", "tenant_id", "profile_id", "channel", "source_kind", "source_id", "content_id",
                    "transactional", "ai_personalised", "notify", "due_at", "status", "local_date", "batch_id",
                    "submitted_at", "decided_at"])
                await conn.execute("ANALYZE")
            finally:
                await conn.close()
            # Quiet hours that hold right now in London (and not in Johannesburg, an hour or two ahead of it).
            london = now.astimezone(ZoneInfo("Europe/London"))
            quiet = QuietHours(start=(london - timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               end=(london + timedelta(minutes=50)).time().replace(second=0, microsecond=0))
            policy = DispatchSettings(quietHours={"EMAIL": quiet}, caps={"EMAIL": Cap(perDay=2, perWeek=6)},
                                      controlGroupShare=0.05)
            assert runtime.sessionmaker is not None
            async with runtime.sessionmaker() as session:
                await DispatchRepository(session, TENANT).save_settings(policy, now, "bench")
                await session.commit()

            content = DispatchContent(subject="The June medal and the new halfway house",
                                      body="Entries for the June medal are open; the halfway house opens Saturday.")
            source = DispatchSource(kind="CAMPAIGN", id=CAMPAIGN, runId="ALL", stepId="A")
            requests = [DispatchRequested(
                requestId=dispatch_request_id("CAMPAIGN", CAMPAIGN, "ALL", None, f"bp-{i:07d}", "EMAIL"),
                profileId=f"bp-{i:07d}", channel="EMAIL", source=source, content=content, notBefore=now)
                for i in range(N)]
            dispatch = runtime.state.dispatch
            cpu0, t0 = time.process_time(), time.perf_counter()
            outcomes: dict[str, int] = {}
            for start in range(0, N, BATCH):
                async with runtime.sessionmaker() as session:
                    got = await dispatch.submit_many(session, TENANT, requests[start:start + BATCH],
                                                     datetime.now(UTC))
                    await session.commit()
                for r in got:
                    outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
            t_decided = time.perf_counter() - t0
            cpu_decided = time.process_time() - cpu0

            async def acknowledged() -> bool:
                async with runtime.sessionmaker() as session:
                    left = (await session.execute(text(
                        "SELECT count(*) FROM event_outbox WHERE published_at IS NULL"))).scalar_one()
                return left == 0

            await wait_for(acknowledged, timeout=300, interval=0.02, what="every send request acknowledged")
            wall = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
        requested = outcomes.get("REQUESTED", 0)
        print(f"outcomes: {dict(sorted(outcomes.items()))}", flush=True)
        report(f"dispatch: campaign to {N:,} recipients, decided and recorded (batches of {BATCH:,})", t_decided, "s")
        report(f"dispatch: campaign to {N:,} recipients, to send requests acknowledged on the topic", wall, "s",
               "<= 10 s")
        report("dispatch: recipients per second (end to end)", N / wall, "/s", ">= 10,000")
        report("dispatch: service CPU per recipient (policy, ledger, outbox; Python process)",
               cpu_decided / N * 1e6, "us")
        report("dispatch: service CPU per recipient incl. the relay publishing", cpu / N * 1e6, "us")
        report("dispatch: send requests published", requested, "")


if __name__ == "__main__":
    asyncio.run(main())
