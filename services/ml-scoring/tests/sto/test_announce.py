"""Send-time profiles announced on crm.scoring (`send_time.profile_updated`, what campaigns' dispatch reads): with
the scores of the members a batch touched, once per change of what dispatch acts on, relayed from the outbox."""

import json
from datetime import UTC, datetime

from sqlalchemy import text

from fairway_events import registry
from fairway_events.contracts.scoring import SendTimeProfileUpdated
from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.scoring.service import refresh_scores
from fairway_testkit import run_service, wait_for

from ..conftest import insert_events
from ..test_clv_sto import opens

CLUB = "club-s"


def _subject(player: str) -> str:
    return f"teetimePlayerId:{player}"


async def _announced(svc) -> list[tuple[SendTimeProfileUpdated, bool]]:
    async with svc.runtime.sessionmaker() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT body, published_at IS NOT NULL AS published FROM event_outbox "
                    "WHERE event_type = 'send_time.profile_updated' ORDER BY id"
                )
            )
        ).all()
    out = []
    for r in rows:
        env = json.loads(r.body)
        assert (env["tenant_id"], env["version"], registry.latest(env["event_type"]).version) == (CLUB, 1, 1)
        out.append((SendTimeProfileUpdated.model_validate(env["payload"]), r.published))
    return out


async def test_send_time_profiles_are_announced_when_they_change(ml_settings) -> None:
    now = datetime.now(UTC)
    history = opens(CLUB, "keen", 21, 20, now) + opens(CLUB, "newbie", 13, 2, now)
    for i in range(6):
        history += opens(CLUB, f"E{i}", 20, 8, now)
    members = [_subject(p) for p in ["keen", "newbie", *(f"E{i}" for i in range(6))]]
    async with run_service(create_app(ml_settings())) as svc:
        ctx, sessions = svc.runtime.state, svc.runtime.sessionmaker
        async with sessions() as s, s.begin():
            await insert_events(s, history)
        async with sessions() as s, s.begin():
            await refresh_scores(s, ctx, CLUB, members, now=now)

        first = {p.profileId: p for p, _ in await _announced(svc)}
        assert set(first) == set(members)  # everyone once
        keen, newbie = first[_subject("keen")], first[_subject("newbie")]
        assert (keen.source, keen.hourlyOpenProbability.index(max(keen.hourlyOpenProbability))) == ("PERSONAL", 21)
        assert keen.confidence >= 0.3 and keen.sampleSize == 20 and keen.timezone == "UTC"
        # Two opens are not enough: the club's prior (most of its opens are at 20), with the member's own
        # confidence, so dispatch does not take a prior for a confident profile of theirs.
        assert newbie.source == "TENANT" and newbie.confidence < 0.3 and newbie.sampleSize == 2
        assert newbie.hourlyOpenProbability.index(max(newbie.hourlyOpenProbability)) == 20
        assert abs(sum(keen.hourlyOpenProbability) - 1) < 1e-3

        # Nothing changed: nothing announced again.
        async with sessions() as s, s.begin():
            await refresh_scores(s, ctx, CLUB, members, now=now)
        assert len(await _announced(svc)) == len(members)

        # The newbie opens at lunchtime for a month: now a profile of their own, announced once more.
        async with sessions() as s, s.begin():
            await insert_events(s, opens(CLUB, "newbie", 13, 30, now, start=100))
        async with sessions() as s, s.begin():
            await refresh_scores(s, ctx, CLUB, members, now=now)
        events = await _announced(svc)
        assert len(events) == len(members) + 1
        latest = events[-1][0]
        assert latest.profileId == _subject("newbie") and latest.source == "PERSONAL" and latest.confidence >= 0.3
        assert latest.hourlyOpenProbability.index(max(latest.hourlyOpenProbability)) == 13

        async def relayed() -> bool:
            return all(published for _, published in await _announced(svc))

        await wait_for(relayed, timeout=60, what="the relay to publish the send-time events to crm.scoring")
