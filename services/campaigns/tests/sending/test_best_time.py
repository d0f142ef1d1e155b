"""A BEST_TIME campaign reaches each recipient at the best hour of their send-time profile (ml-scoring's
`send_time.profile_updated` on the real broker): their own when its confidence is at least 0.3, else the club's
pooled prior. The service runs on a ManualClock; the release job is run as the worker runs it at each hour."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from camp_helpers import TENANT, Api, Club, audience_of, fast_jobs, member, no_dispatch_rules, state_of
from sqlalchemy import text

from fairway_campaigns.app import create_app
from fairway_campaigns.dispatch.jobs import release
from fairway_campaigns.settings import Settings
from fairway_chassis import ManualClock
from fairway_events import TopicNames
from fairway_testkit import RunningService, run_service, wait_for

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
JOBURG, LONDON = "Africa/Johannesburg", "Europe/London"


@pytest.fixture
async def clocked(settings_for: Callable[..., Settings], created_topics: TopicNames
                  ) -> AsyncIterator[tuple[RunningService, ManualClock]]:
    clock = ManualClock(START)
    async with run_service(create_app(fast_jobs(settings_for), clock=clock)) as running:
        yield running, clock


def local_hour(hours_later: int, zone: str) -> int:
    return (START + timedelta(hours=hours_later)).astimezone(ZoneInfo(zone)).hour


async def _ledger(svc: RunningService, campaign_id: str) -> dict[str, Any]:
    async with svc.runtime.sessionmaker() as s:
        rows = (await s.execute(text("SELECT profile_id, status, send_at, reason, decided_at FROM dispatch_ledger "
                                     "WHERE source_id = :c"), {"c": campaign_id})).all()
    return {r.profile_id: r for r in rows}


async def _requested(svc: RunningService) -> dict[str, int]:
    async with svc.runtime.sessionmaker() as s:
        rows = (await s.execute(text(
            "SELECT body::jsonb #>> '{payload,recipient,profileId}', count(*) FROM event_outbox "
            "WHERE event_type = 'messaging.send.requested' GROUP BY 1"))).all()
    return dict(rows)  # type: ignore[arg-type]


async def test_best_time_sends_each_recipient_at_their_best_hour(
        clocked: tuple[RunningService, ManualClock], producer: object, created_topics: TopicNames) -> None:
    svc, clock = clocked
    api = Api(svc)
    club = Club(producer, created_topics)
    people = [member(i) for i in range(1, 6)]
    await club.members(people)
    # Confident profiles: p1 at +5 h, p2 at +9 h (Johannesburg hours), p3 at +13 h in London hours. The pooled
    # prior is the most common zone's confident profiles weighted by confidence: p2 (0.9) outweighs p1 (0.8).
    await club.send_time(member(1), local_hour(5, JOBURG), JOBURG, 0.8)
    await club.send_time(member(2), local_hour(9, JOBURG), JOBURG, 0.9)
    await club.send_time(member(3), local_hour(13, LONDON), LONDON, 0.85)
    await club.send_time(member(4), local_hour(3, JOBURG), JOBURG, 0.1)  # too unsure: the prior instead
    # member 5 has no profile at all: the prior too
    await no_dispatch_rules(api)
    window = {"start": START.isoformat(), "end": (START + timedelta(hours=24)).isoformat()}
    c = await api.create(schedule={"kind": "BEST_TIME", "window": window})
    await audience_of(api, c["id"], len(people))

    async def profiles_known() -> bool:
        async with svc.runtime.sessionmaker() as s:
            return (await s.execute(text("SELECT count(*) FROM dispatch_send_times"))).scalar_one() == 4

    await wait_for(profiles_known, timeout=60, what="the send-time profiles in dispatch's read model")
    await api.action(c["id"], "schedule")
    await state_of(api, c["id"], "COMPLETED")

    best = {member(1): 5, member(2): 9, member(3): 13, member(4): 9, member(5): 9}
    held = await _ledger(svc, c["id"])
    assert {p: r.status for p, r in held.items()} == dict.fromkeys(people, "HELD")
    assert {p: r.send_at for p, r in held.items()} == {p: START + timedelta(hours=h) for p, h in best.items()}
    assert all(held[p].reason.startswith("best time until") for p in people[:3])
    assert all(held[p].reason.startswith("best time (prior) until") for p in people[3:])
    assert await _requested(svc) == {}

    # The hours pass; at each one the release job sends exactly those whose best hour it is.
    for hours in (5, 9, 13):
        clock.set(START + timedelta(hours=hours))
        await release(svc.runtime, tenant_id=TENANT, at=clock.now().isoformat())
        due = {p for p, h in best.items() if h <= hours}
        assert await _requested(svc) == dict.fromkeys(due, 1), f"at +{hours} h"
    ledger = await _ledger(svc, c["id"])
    assert all(r.status == "REQUESTED" and r.decided_at == START + timedelta(hours=best[p])
               for p, r in ledger.items())
    stats = await api.get(f"/{c['id']}/stats")
    assert stats["total"]["requested"] == len(people) and stats["total"]["held"] == 0
