"""A promotion's announcement survives a real process kill: SIGKILL the service (a subprocess, as it runs in
production) while the announcement's batches go to dispatch, start it again, and every effect exists exactly once:
one ledger entry and one result row per recipient, one social post request, one promotion.created."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from camp_helpers import KILL_BATCH, Api, Club, ServiceProcess, member, no_dispatch_rules

from fairway_events import TopicNames
from fairway_testkit import auth_headers, wait_for

AUDIENCE = 1500


async def test_kill_mid_announcement_then_restart_sends_everything_exactly_once(
    service: ServiceProcess, pg_server_url: str, database_name: str, producer: object, created_topics: TopicNames,
) -> None:
    people = [member(i) for i in range(AUDIENCE)]
    await Club(producer, created_topics).members(people)
    base = f"http://127.0.0.1:{service.env['FAIRWAY_CAMPAIGNS_PORT']}"
    db = await asyncpg.connect(f"{pg_server_url.rsplit('/', 1)[0]}/{database_name}".replace("+asyncpg", ""))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            api = Api(http)
            await no_dispatch_rules(api)
            r = await http.put("/api/v1/promotions/settings", headers=api.headers, json={
                "audienceSegmentId": "seg-active-members", "channels": ["EMAIL", "SOCIAL"]})
            assert r.status_code == 200, r.text

            async def audience() -> bool:
                return await db.fetchval("SELECT count(*) FROM dispatch_segment_members") == AUDIENCE and \
                    await db.fetchval("SELECT count(*) FROM dispatch_profiles") == AUDIENCE

            await wait_for(audience, timeout=120, what="the audience read models")
            r = await http.post("/api/v1/promotions", headers=api.headers, json={
                "name": "Stonehaven Club Championship", "competitionId": "COMP-9",
                "startsAt": (datetime.now(UTC) + timedelta(days=12)).isoformat()})
            assert r.status_code == 201, r.text
            pid = r.json()["id"]

            async def under_way() -> int:
                n = await db.fetchval("SELECT recipients FROM promotion_steps WHERE promotion_id = $1 AND "
                                      "step = 'ANNOUNCE'", pid)
                return n if n and n >= 3 * KILL_BATCH else 0

            await wait_for(under_way, timeout=120, interval=0.01, what="the announcement to be under way")
            service.kill()
            at_kill = await db.fetchval("SELECT recipients FROM promotion_steps WHERE promotion_id = $1 AND "
                                        "step = 'ANNOUNCE'", pid)
            assert at_kill < AUDIENCE, "the announcement finished before the kill: make the audience larger"
            await service.start()

            async def done() -> bool:
                got = await http.get(f"/api/v1/promotions/{pid}", headers=auth_headers("stonehaven", ("staff",)))
                return any(s["step"] == "ANNOUNCE" and s["status"] == "DONE" for s in got.json()["schedule"])

            await wait_for(done, timeout=180, what="the announcement to finish")
        ledger = await db.fetch("SELECT profile_id, count(*) AS n FROM dispatch_ledger WHERE source_id = $1 "
                                "GROUP BY profile_id", pid)
        messages = await db.fetchval("SELECT count(*) FROM campaign_messages WHERE campaign_id = $1", pid)
        effects = dict(await db.fetch("SELECT event_type, count(*) FROM event_outbox WHERE key = $1 "
                                      "GROUP BY event_type", pid))
        recipients = await db.fetchval("SELECT recipients FROM promotion_steps WHERE promotion_id = $1 AND "
                                       "step = 'ANNOUNCE'", pid)
    finally:
        await db.close()
    assert {r["profile_id"] for r in ledger} == set(people) and all(r["n"] == 1 for r in ledger)
    assert messages == AUDIENCE and recipients == AUDIENCE
    assert effects == {"promotion.created": 1, "social.post.requested": 1}
    print(f"killed at {at_kill}/{AUDIENCE}")
