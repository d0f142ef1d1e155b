"""The fan-out through dispatch, in process: pause and resume at any moment (nobody twice, nobody skipped), cancel,
local-time schedules, and the audience preview."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from camp_helpers import Api, Club, audience_of, fast_jobs, member, no_dispatch_rules, state_of
from sqlalchemy import text

from fairway_campaigns.app import create_app
from fairway_campaigns.settings import Settings
from fairway_events import TopicNames
from fairway_testkit import RunningService, run_service, wait_for


@pytest.fixture
async def small_batches(settings_for: Callable[..., Settings], created_topics: TopicNames
                        ) -> AsyncIterator[RunningService]:
    async with run_service(create_app(fast_jobs(settings_for, fanout_batch_size=10))) as running:
        yield running


async def _scalar(svc: RunningService, sql: str, **params: object) -> int:
    async with svc.runtime.sessionmaker() as s:
        return int((await s.execute(text(sql), params)).scalar_one())


async def test_pause_and_resume_mid_fanout(small_batches: RunningService, producer: object,
                                           created_topics: TopicNames) -> None:
    svc, n = small_batches, 1500
    api = Api(svc)
    await Club(producer, created_topics).members([member(i) for i in range(n)])
    await no_dispatch_rules(api)
    c = await api.create(schedule={"kind": "NOW"})
    await audience_of(api, c["id"], n)
    await api.action(c["id"], "schedule")

    async def under_way() -> int:
        return (await api.get(f"/{c['id']}"))["submitted"]

    await wait_for(under_way, timeout=60, interval=0.02, what="the fan-out to start")
    paused = await api.action(c["id"], "pause")
    assert paused["state"] == "PAUSED" and 0 < paused["submitted"] < n
    await asyncio.sleep(1.5)  # a batch in flight when the pause came has committed by now, or never will
    held = (await api.get(f"/{c['id']}"))["submitted"]
    ledger = "SELECT count(*) FROM dispatch_ledger WHERE source_id = :c"
    assert held == paused["submitted"]  # the pause waited for the batch in flight (same row lock)
    assert await _scalar(svc, ledger, c=c["id"]) == held
    await asyncio.sleep(1)
    assert (await api.get(f"/{c['id']}"))["submitted"] == held  # nothing moves while paused
    assert (await api.action(c["id"], "resume"))["state"] == "SENDING"
    await state_of(api, c["id"], "COMPLETED")
    assert await _scalar(svc, ledger, c=c["id"]) == n
    assert await _scalar(svc, "SELECT count(DISTINCT profile_id) FROM dispatch_ledger WHERE source_id = :c",
                         c=c["id"]) == n
    events = await _scalar(svc, "SELECT count(*) FROM event_outbox WHERE key = :c AND event_type IN "
                           "('campaign.scheduled', 'campaign.started', 'campaign.paused', 'campaign.completed')",
                           c=c["id"])
    assert events == 4


async def test_cancel_mid_fanout_stops_it(small_batches: RunningService, producer: object,
                                          created_topics: TopicNames) -> None:
    svc, n = small_batches, 1000
    api = Api(svc)
    await Club(producer, created_topics).members([member(i) for i in range(n)])
    await no_dispatch_rules(api)
    c = await api.create(schedule={"kind": "NOW"})
    await audience_of(api, c["id"], n)
    await api.action(c["id"], "schedule")

    async def under_way() -> int:
        return (await api.get(f"/{c['id']}"))["submitted"]

    await wait_for(under_way, timeout=60, interval=0.02, what="the fan-out to start")
    cancelled = await api.action(c["id"], "cancel")
    assert cancelled["state"] == "CANCELLED"
    await asyncio.sleep(1.5)
    final = (await api.get(f"/{c['id']}"))["submitted"]
    assert final < n and await _scalar(svc, "SELECT count(*) FROM dispatch_ledger WHERE source_id = :c",
                                       c=c["id"]) == final
    assert (await api.action(c["id"], "resume", expect=409))["detail"].endswith("CANCELLED")


async def test_audience_preview_and_exclusions(small_batches: RunningService, producer: object,
                                               created_topics: TopicNames) -> None:
    api = Api(small_batches)
    club = Club(producer, created_topics)
    await club.members([member(i) for i in range(30)])
    await club.members([member(i) for i in range(10)], segment="seg-lapsed")
    c = await api.create(exclusionSegmentIds=["seg-lapsed"])
    preview = await audience_of(api, c["id"], 20)
    assert preview["excluded"] == 10 and len(preview["sample"]) == 20
    assert all(p >= member(10) for p in preview["sample"])


async def test_test_send_goes_through_dispatch_and_stays_out_of_results(
        small_batches: RunningService, producer: object, created_topics: TopicNames) -> None:
    api = Api(small_batches)
    club = Club(producer, created_topics)
    await club.members([member(1), member(2)])
    await club.members([member(3)], email_opt_in=False)
    await no_dispatch_rules(api)
    c = await api.create(exclusionSegmentIds=[])
    await audience_of(api, c["id"], 3)
    r = await api.http.post(f"/api/v1/campaigns/{c['id']}/test-send",
                            json={"profileIds": [member(1), member(3)]}, headers=api.headers)
    assert r.status_code == 200, r.text
    proof = r.json()
    assert proof["runId"].startswith("proof-")
    assert {x["profileId"]: x["outcome"] for x in proof["results"]} == {member(1): "REQUESTED",
                                                                         member(3): "NO_CONSENT"}
    again = (await api.http.post(f"/api/v1/campaigns/{c['id']}/test-send", json={"profileIds": [member(1)]},
                                 headers=api.headers)).json()
    assert again["results"][0]["requestId"] != proof["results"][0]["requestId"]  # each proof is a new run
    stats = await api.get(f"/{c['id']}/stats")
    assert stats["total"]["requested"] == 0 and (await api.get(f"/{c['id']}"))["state"] == "DRAFT"
    # sent for real afterwards, the proofs still do not count
    await api.http.patch(f"/api/v1/campaigns/{c['id']}", json={"schedule": {"kind": "NOW"}}, headers=api.headers)
    await api.action(c["id"], "schedule")
    await state_of(api, c["id"], "COMPLETED")
    total = (await api.get(f"/{c['id']}/stats"))["total"]
    assert (total["targeted"], total["requested"], total["skipped"]) == (3, 2, {"NO_CONSENT": 1})


async def test_local_time_reaches_each_recipient_at_their_own_wall_clock_and_social_posts_once(
        small_batches: RunningService, producer: object, created_topics: TopicNames) -> None:
    api = Api(small_batches)
    club = Club(producer, created_topics)
    await club.members([member(1), member(2)])
    await club.time_zone(member(2), "Europe/London")  # member 1: unknown, the tenant's Africa/Johannesburg
    await no_dispatch_rules(api)
    # 13 hours ahead in UTC terms: the fan-out starts now (UTC+14 is there already) and both are still to come.
    wall = (datetime.now(UTC) + timedelta(hours=13)).replace(second=0, microsecond=0, tzinfo=None)
    c = await api.create(channels=["EMAIL", "SOCIAL"], content={
        "EMAIL": {"subject": "Good morning from the club", "body": "Today's tee sheet."},
        "SOCIAL": {"body": "Winter rates are live", "hashtags": ["golf"]}},
        schedule={"kind": "LOCAL_TIME", "date": wall.date().isoformat(), "localTime": wall.strftime("%H:%M")})
    await audience_of(api, c["id"], 2)

    async def zoned() -> bool:
        async with small_batches.runtime.sessionmaker() as s:
            return (await s.execute(text("SELECT time_zone FROM dispatch_profiles WHERE profile_id = :p"),
                                    {"p": member(2)})).scalar() == "Europe/London"

    await wait_for(zoned, timeout=60, what="member 2's time zone in dispatch's read model")
    await api.action(c["id"], "schedule")
    await state_of(api, c["id"], "COMPLETED")
    async with small_batches.runtime.sessionmaker() as s:
        rows = dict((await s.execute(text("SELECT profile_id, send_at FROM dispatch_ledger WHERE source_id = :c "
                                          "AND status = 'HELD'"), {"c": c["id"]})).all())
        posts = (await s.execute(text("SELECT count(*) FROM event_outbox WHERE event_type = 'social.post.requested'"
                                      " AND body LIKE :c"), {"c": f"%{c['id']}%"})).scalar_one()
    johannesburg = wall.replace(tzinfo=ZoneInfo("Africa/Johannesburg"))
    london = wall.replace(tzinfo=ZoneInfo("Europe/London"))
    assert rows == {member(1): johannesburg, member(2): london}
    assert posts == 1
