"""GET /timeline: newest first, filters, a total, and cursors that stay stable while activities arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.settings import Settings

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KINDS = [
    ("teetime.booking.created", {"bookingId": "b"}),
    ("teetime.round.played", {"roundId": "r"}),
    ("messaging.email.opened", {"messageId": "m"}),
    ("messaging.email.clicked", {"messageId": "m"}),
    ("scl.payment.received", {"paymentId": "p", "amount": "10"}),
]


async def test_pagination_is_stable_while_activities_arrive(settings_for, club) -> None:
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        await club.created("club-a", "p-1", authUserId=["u-1"])
        who = {"authUserId": "u-1"}
        for i in range(30):
            kind, payload = KINDS[i % len(KINDS)]
            # The last ten share one timestamp: the id breaks the tie, so no page boundary drops or repeats one.
            at = T0 - timedelta(hours=i if i < 20 else 20)
            await club.upstream(kind, "club-a", who, payload, at=at)
        await wait_for(lambda: _total(svc, 30), what="30 activities")

        first = await club.timeline(svc, "club-a", "p-1", limit=7)
        assert first["total"] == 30 and len(first["items"]) == 7 and first["nextCursor"]
        # While the reader is on page 1: three newer activities and two older ones arrive.
        for h in (1, 2, 3):
            await club.upstream(
                "messaging.push.opened", "club-a", who, {"messageId": f"new{h}"}, at=T0 + timedelta(hours=h)
            )
        for h in (100, 101):
            await club.upstream(
                "messaging.push.sent", "club-a", who, {"messageId": f"old{h}"}, at=T0 - timedelta(hours=h)
            )
        await wait_for(lambda: _total(svc, 35), what="5 more")

        seen, page = list(first["items"]), first
        while page["nextCursor"]:
            page = await club.timeline(svc, "club-a", "p-1", limit=7, cursor=page["nextCursor"])
            assert page["total"] == 35
            seen += page["items"]
        ids = [i["id"] for i in seen]
        assert len(ids) == len(set(ids)) == 32  # the 30 there at the start, plus the 2 older ones; no repeats
        assert [i["payload"].get("messageId") for i in seen[-2:]] == ["old100", "old101"]
        keys = [(i["occurredAt"], i["id"]) for i in seen]
        assert keys == sorted(keys, reverse=True)
        fresh = await club.timeline(svc, "club-a", "p-1", limit=3)
        assert [i["payload"]["messageId"] for i in fresh["items"]] == ["new3", "new2", "new1"]

        # Filters, and the total that goes with them.
        bookings = await club.timeline(svc, "club-a", "p-1", categories="booking")
        assert bookings["total"] == 6 and {i["type"] for i in bookings["items"]} == {"BOOKING_CREATED"}
        both = await club.timeline(svc, "club-a", "p-1", types=["EMAIL_OPENED", "ROUND_PLAYED,PUSH_SENT"])
        assert both["total"] == 14 and {i["type"] for i in both["items"]} == {
            "EMAIL_OPENED",
            "ROUND_PLAYED",
            "PUSH_SENT",
        }
        day = await club.timeline(svc, "club-a", "p-1", startDate="2025-05-31", endDate="2025-05-31")
        assert day["total"] == 17 and all(i["occurredAt"].startswith("2025-05-31") for i in day["items"])
        window = await club.timeline(
            svc,
            "club-a",
            "p-1",
            startDate="2025-06-01T10:00:00Z",
            endDate="2025-06-01T13:30:00+00:00",
            categories="ENGAGEMENT,GOLF",
        )
        # startDate is inclusive, endDate exclusive; the 12:00 booking is not in those categories.
        assert [i["occurredAt"][11:16] for i in window["items"]] == ["13:00", "11:00", "10:00"]

        # Bad input: 422 naming the parameter.
        headers = auth_headers("club-a", ["staff"])
        for params, field in (
            ({"categories": "BOOKING,FOO"}, "query.categories"),
            ({"types": "NAP"}, "query.types"),
            ({"cursor": "not-a-cursor"}, "query.cursor"),
            ({"limit": 0}, "query.limit"),
            ({"limit": 201}, "query.limit"),
            ({"startDate": "yesterday"}, "query.startDate"),
            ({"startDate": "2025-06-02", "endDate": "2025-06-01"}, "query.endDate"),
        ):
            r = await svc.http.get("/api/v1/customers/p-1/timeline", params=params, headers=headers)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["detail"][0]["field"] == field, (params, r.text)
        assert (await svc.http.get("/api/v1/customers/p-1/timeline")).status_code == 401


async def _total(svc, n: int) -> bool:  # noqa: ANN001
    r = await svc.http.get("/api/v1/customers/p-1/timeline", headers=auth_headers("club-a", ["staff"]))
    return r.status_code == 200 and r.json()["total"] == n
