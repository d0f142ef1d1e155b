"""Counters on crm.timeline: right when events arrive, and right again when time alone moves a window."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from fairway_chassis import ManualClock
from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.settings import Settings


async def test_window_counters_cross_a_day_boundary(settings_for, club, kafka_bootstrap, topics) -> None:
    clock = ManualClock(datetime(2025, 3, 31, 23, 0, tzinfo=UTC))
    at = lambda s: datetime.fromisoformat(s)  # noqa: E731
    async with run_service(
        create_app(settings_for(Settings, sweep_interval_seconds=0.1), clock=clock)
    ) as svc:
        await club.created("club-a", "p-1", email=["kim@club.com"])
        kim = {"email": "kim@club.com"}
        # 29 days 22.5 hours old at the start: inside the 30-day window until 00:30 on 1 April.
        await club.upstream(
            "teetime.booking.created", "club-a", kim, {"bookingId": "b1"}, at=at("2025-03-02T00:30:00Z")
        )
        await club.upstream(
            "messaging.email.sent", "club-a", kim, {"messageId": "m1"}, at=at("2025-03-20T09:00:00Z")
        )
        await club.upstream(
            "messaging.email.opened", "club-a", kim, {"messageId": "m1"}, at=at("2025-03-20T10:00:00Z")
        )
        # Older than 90 days: counts nowhere, but it is still the last round played.
        await club.upstream(
            "teetime.round.played", "club-a", kim, {"roundId": "r1"}, at=at("2024-12-15T08:00:00Z")
        )

        expected_before = {
            "profileId": "p-1",
            "asOf": "2025-03-31T23:00:00Z",
            "activityCount30d": 2,
            "activityCount90d": 2,
            "bookingCount30d": 1,
            "bookingCount90d": 1,
            "roundsPlayed30d": 0,
            "roundsPlayed90d": 0,
            "emailSends30d": 1,
            "emailOpens30d": 1,
            "emailClicks30d": 0,
            "lastActivityAt": "2025-03-20T10:00:00Z",
            "lastActivityType": "EMAIL_OPENED",
            "lastBookingAt": "2025-03-02T00:30:00Z",
            "lastRoundAt": "2024-12-15T08:00:00Z",
            "lastEmailOpenAt": "2025-03-20T10:00:00Z",
            "lastEmailClickAt": None,
        }

        async def latest_is(expected: dict):  # noqa: ANN202
            published = await club.published_counters(svc, "club-a", "p-1")
            return published if published and published[-1] == expected else None

        published = await wait_for(lambda: latest_is(expected_before), what="counters before midnight")
        await asyncio.sleep(0.5)  # several sweeps: nothing moved, so nothing is published again
        assert len(await club.published_counters(svc, "club-a", "p-1")) == len(published)

        # Midnight passes; at 00:30 the booking leaves the 30-day window (but not the 90-day one).
        clock.set(datetime(2025, 4, 1, 1, 0, tzinfo=UTC))
        expected_after = {
            **expected_before,
            "asOf": "2025-04-01T01:00:00Z",
            "activityCount30d": 1,
            "bookingCount30d": 0,
        }
        await wait_for(lambda: latest_is(expected_after), what="counters after the window moved")
        r = await svc.http.get("/api/v1/customers/p-1/counters", headers=auth_headers("club-a", ["analyst"]))
        assert r.json() == {
            "profileId": "p-1",
            "asOf": "2025-04-01T01:00:00Z",
            "counters": {k: v for k, v in expected_after.items() if k not in ("profileId", "asOf")},
        }

        # On 19 April, past 10:00, the March email send and open leave the 30-day window too.
        clock.set(datetime(2025, 4, 19, 11, 0, tzinfo=UTC))
        expected_later = {
            **expected_after,
            "asOf": "2025-04-19T11:00:00Z",
            "activityCount30d": 0,
            "emailSends30d": 0,
            "emailOpens30d": 0,
        }
        await wait_for(lambda: latest_is(expected_later), what="email left the window on 19 April")

        # The same events reached the broker, keyed by profile id, in order.
        seen = await _consume(
            kafka_bootstrap, topics("crm.timeline"), until=lambda e: e["payload"] == expected_later
        )
        mine = [e for e in seen if e["payload"]["profileId"] == "p-1"]
        assert [e["payload"] for e in mine[-3:]] == [expected_before, expected_after, expected_later]
        assert all(
            e["event_type"] == "timeline.counters_updated" and e["aggregate_id"] == "p-1" for e in mine
        )


async def _consume(bootstrap: str, topic: str, until, timeout: float = 20.0) -> list[dict]:  # noqa: ANN001
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    out: list[dict] = []
    try:
        async with asyncio.timeout(timeout):
            while not out or not until(out[-1]):
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    out.extend(json.loads(r.value) for r in records)
                out.sort(key=lambda e: e["payload"]["asOf"])
    finally:
        await consumer.stop()
    return out
