"""Campaign benchmark: `python -m fairway_bench.campaigns`.

The same club as the dispatch benchmark (N members, default 100,000; FAIRWAY_BENCH_CAMPAIGN_RECIPIENTS, with missing
opt-ins and addresses, a 5 % control group, a reached daily cap for a tenth, quiet hours holding in London), all
members of one segment. A campaign is created and scheduled through the HTTP API; the fan-out job snapshots the
audience, hands it to dispatch in batches (FAIRWAY_BENCH_CAMPAIGN_BATCH, default 5,000), each with its checkpoint,
and completes the campaign. Timed from the schedule call until the campaign is COMPLETED and every send request is
acknowledged on the topic. Printed: wall time, recipients per second, the service process's CPU per recipient.
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
from fairway_bench.dispatch import TENANT, _history_rows, _profile_rows
from fairway_campaigns.app import create_app
from fairway_campaigns.dispatch.policy import Cap, DispatchSettings, QuietHours
from fairway_campaigns.dispatch.repository import DispatchRepository
from fairway_campaigns.settings import Settings
from fairway_chassis.gc_tuning import tune_gc
from fairway_testkit import auth_headers, run_service, wait_for
from fairway_testkit.helpers import TEST_JWT_SECRET

N = int(os.environ.get("FAIRWAY_BENCH_CAMPAIGN_RECIPIENTS", "100000"))
BATCH = int(os.environ.get("FAIRWAY_BENCH_CAMPAIGN_BATCH", "5000"))
SEGMENT = "seg-bench-everyone"


async def main() -> None:
    tune_gc()
    async with bench_env() as env:
        url = await env.fresh_database("campaigns")
        base, _, name = url.rpartition("/")
        settings = Settings(database_url=base + "/postgres", database_name=name, kafka_bootstrap=env.bootstrap,
                            topic_prefix=f"bench{uuid.uuid4().hex[:6]}.", jwt_secret=TEST_JWT_SECRET,
                            log_level="WARNING", log_json=False, fanout_batch_size=BATCH, jobs_poll_seconds=0.2)
        async with run_service(create_app(settings)) as svc:
            runtime = svc.runtime
            now = datetime.now(UTC)
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                await conn.copy_records_to_table("dispatch_profiles", records=_profile_rows(N), columns=[
                    "tenant_id", "profile_id", "status", "erased", "email", "phone_number", "messaging_contact_id",
                    "email_opt_in", "sms_opt_in", "push_opt_in", "ai_consent", "time_zone", "updated_at"])
                await conn.copy_records_to_table("dispatch_segment_members", records=[
                    (TENANT, SEGMENT, f"bp-{i:07d}", now) for i in range(N)],
                    columns=["tenant_id", "segment_id", "profile_id", "entered_at"])
                await conn.execute("INSERT INTO dispatch_contents VALUES ($1, 'c0', '{\"body\": \"earlier\"}')", TENANT)
                await conn.copy_records_to_table("dispatch_ledger", records=_history_rows(N, now), columns=[
                    "request_id", "tenant_id", "profile_id", "channel", "source_kind", "source_id", "content_id",
                    "transactional", "ai_personalised", "notify", "due_at", "status", "local_date", "batch_id",
                    "submitted_at", "decided_at"])
                await conn.execute("ANALYZE")
            finally:
                await conn.close()
            london = now.astimezone(ZoneInfo("Europe/London"))
            quiet = QuietHours(start=(london - timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               end=(london + timedelta(minutes=50)).time().replace(second=0, microsecond=0))
            assert runtime.sessionmaker is not None
            async with runtime.sessionmaker() as session:
                await DispatchRepository(session, TENANT).save_settings(DispatchSettings(
                    quietHours={"EMAIL": quiet}, caps={"EMAIL": Cap(perDay=2, perWeek=6)}, controlGroupShare=0.05),
                    now, "bench")
                await session.commit()

            headers = auth_headers(TENANT, ("marketer",))
            r = await svc.http.post("/api/v1/campaigns", headers=headers, json={
                "name": "June newsletter", "channels": ["EMAIL"], "targetSegmentId": SEGMENT,
                "content": {"EMAIL": {"subject": "The June medal and the new halfway house",
                                      "body": "Entries for the June medal are open."}},
                "schedule": {"kind": "NOW"}})
            assert r.status_code == 201, r.text
            cid = r.json()["id"]
            cpu0, t0 = time.process_time(), time.perf_counter()
            assert (await svc.http.post(f"/api/v1/campaigns/{cid}/schedule", headers=headers)).status_code == 200

            async def completed() -> bool:
                r = await svc.http.get(f"/api/v1/campaigns/{cid}", headers=headers)
                return r.json()["state"] == "COMPLETED"

            await wait_for(completed, timeout=600, interval=0.05, what="the campaign to complete")
            t_fanned = time.perf_counter() - t0

            async def acknowledged() -> bool:
                async with runtime.sessionmaker() as session:
                    left = (await session.execute(text(
                        "SELECT count(*) FROM event_outbox WHERE published_at IS NULL"))).scalar_one()
                return left == 0

            await wait_for(acknowledged, timeout=300, interval=0.02, what="every send request acknowledged")
            wall = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            stats = (await svc.http.get(f"/api/v1/campaigns/{cid}/stats", headers=headers)).json()["total"]
        print(f"requested {stats['requested']:,}, held {stats['held']:,}, skipped {stats['skipped']}", flush=True)
        report(f"campaigns: fan-out of {N:,} recipients through dispatch to COMPLETED (batches of {BATCH:,})",
               t_fanned, "s")
        report(f"campaigns: campaign to {N:,} recipients, schedule to send requests acknowledged", wall, "s",
               "<= 10 s")
        report("campaigns: recipients per second (end to end)", N / wall, "/s", ">= 10,000")
        report("campaigns: service CPU per recipient (snapshot, fan-out, dispatch, results, relay)",
               cpu / N * 1e6, "us")


if __name__ == "__main__":
    asyncio.run(main())
