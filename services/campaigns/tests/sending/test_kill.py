"""The fan-out survives a real process kill: SIGKILL the service (a subprocess, as it runs in production) in the
middle of a campaign's fan-out, start it again, and every recipient is requested exactly once."""
from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import httpx
from camp_helpers import (
    KILL_BATCH,
    Api,
    Club,
    ServiceProcess,
    audience_of,
    member,
    no_dispatch_rules,
    send_requests,
    state_of,
)

from fairway_events import TopicNames
from fairway_testkit import wait_for

AUDIENCE = 1500
BATCH = KILL_BATCH


async def test_kill_mid_fanout_then_restart_requests_everyone_exactly_once(
    service: ServiceProcess, pg_server_url: str, database_name: str, kafka_bootstrap: str, producer: object,
    created_topics: TopicNames,
) -> None:
    club = Club(producer, created_topics)
    people = [member(i) for i in range(AUDIENCE)]
    await club.members(people)
    base = f"http://127.0.0.1:{service.env['FAIRWAY_CAMPAIGNS_PORT']}"
    db = await asyncpg.connect(f"{pg_server_url.rsplit('/', 1)[0]}/{database_name}".replace("+asyncpg", ""))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            api = Api(http)
            await no_dispatch_rules(api)
            c = await api.create(schedule={"kind": "NOW"})
            await audience_of(api, c["id"], AUDIENCE)
            await api.action(c["id"], "schedule")

            async def mid_fanout() -> int:
                cursor = await db.fetchval("SELECT cursor FROM campaigns WHERE id = $1", c["id"])
                return cursor if cursor and cursor >= 3 * BATCH else 0

            killed_at = await wait_for(mid_fanout, timeout=120, interval=0.01, what="the fan-out to be under way")
            service.kill()
            at_kill = await db.fetchval("SELECT cursor FROM campaigns WHERE id = $1", c["id"])
            assert at_kill < AUDIENCE, "the fan-out finished before the kill: make the audience larger"
            assert killed_at <= at_kill
            await service.start()
            done = await state_of(api, c["id"], "COMPLETED", timeout=180)
            assert done["submitted"] == AUDIENCE
    finally:
        ledger = await db.fetch(
            "SELECT profile_id, count(*) AS n FROM dispatch_ledger WHERE source_id = $1 GROUP BY profile_id", c["id"])
        messages = await db.fetchval("SELECT count(*) FROM campaign_messages WHERE campaign_id = $1", c["id"])
        await db.close()
    assert len(ledger) == AUDIENCE and all(r["n"] == 1 for r in ledger)
    assert messages == AUDIENCE
    published = await send_requests(kafka_bootstrap, created_topics("crm.messaging.send_requests"), c["id"], AUDIENCE)
    by_request = {p["requestId"]: p["recipient"]["profileId"] for p in published}
    # Every recipient has exactly one request id; the relay may repeat a row killed between send and mark, but
    # always with the same request id, which Messaging de-duplicates.
    per_profile = Counter(by_request.values())
    assert set(per_profile) == set(people) and set(per_profile.values()) == {1}
    print(f"killed at {at_kill}/{AUDIENCE}; {len(published)} messages for {len(by_request)} request ids")
    await asyncio.sleep(0)
