"""Dynamic segments over the real broker: the read model fills from identity/timeline/scoring events, a segment
is evaluated when created, and each later profile change moves people in and out, published via the outbox."""

from datetime import timedelta

from seg_helpers import NOW, Events, members_of, published, rule, tenant_id

from fairway_chassis import ManualClock
from fairway_segmentation.app import create_app
from fairway_testkit import auth_headers, run_service, wait_for


async def test_profile_changes_move_people_in_and_out_in_real_time(seg_settings, events: Events) -> None:
    club, other = tenant_id(), tenant_id()
    clock = ManualClock(NOW)
    async with run_service(create_app(seg_settings(), clock=clock)) as svc:
        h = auth_headers(club, ["marketer"])
        await events.send(
            events.created(club, "ann", email="ann@x.com", membershipTier="Gold"),
            events.created(club, "bob", email="bob@x.com", membershipTier="Gold"),
            events.created(club, "cat", email="cat@x.com", membershipTier="Silver"),
            events.counters(club, "ann", lastBookingAt=NOW - timedelta(days=45), bookingCount90d=3),
            events.counters(club, "bob", lastBookingAt=NOW - timedelta(days=3), bookingCount30d=2),
            events.created(other, "ann", email="ann@other.com", membershipTier="Gold"),
        )

        async def rows() -> int:
            r = await svc.http.post("/api/v1/segments/preview", headers=h, json={"criteria": {"rules": []}})
            return r.json()["estimatedSize"] == 3

        await wait_for(rows, what="three profiles in the read model")
        await wait_for(lambda: _counted(svc, club, "bob"), what="bob's counters")
        r = await svc.http.post(
            "/api/v1/segments",
            headers=h,
            json={
                "name": "Lapsed gold",
                "criteria": {
                    "combinator": "AND",
                    "rules": [
                        rule("membershipTier", "eq", "Gold"),
                        rule("lastBookingAt", "lt", {"relative": "-30 days"}),
                    ],
                },
            },
        )
        assert r.status_code == 201, r.text
        seg = r.json()
        assert seg["memberCount"] == 1 and seg["timeSensitivity"] == "instant" and seg["lastRefreshedAt"]
        sid = seg["id"]
        assert await members_of(svc, club, sid) == {"ann"}
        entered = await published(svc, "segment.member_entered", tenant=club)
        assert [(e.payload.profileId, e.payload.reason, e.aggregate_id) for e in entered] == [
            ("ann", "created", sid)
        ]

        # bob stops booking: counters move his last booking back; cat is promoted; ann books again
        await events.send(
            events.counters(
                club, "bob", as_of=NOW + timedelta(seconds=1), lastBookingAt=NOW - timedelta(days=60)
            ),
            events.updated(club, "cat", membershipTier="GOLD"),
            events.counters(
                club, "ann", as_of=NOW + timedelta(seconds=1), lastBookingAt=NOW - timedelta(days=1)
            ),
        )
        # cat has no booking at all: lastBookingAt is NULL, so "lt -30 days" is false for her
        await wait_for(lambda: _is(members_of(svc, club, sid), {"bob"}), what="bob in, ann out")
        moves = [
            (e.event_type, e.payload.profileId, e.payload.reason)
            for e in await published(svc, "segment.member_entered", "segment.member_exited", tenant=club)
        ]
        assert sorted(moves[1:]) == [
            ("segment.member_entered", "bob", "rule"),
            ("segment.member_exited", "ann", "rule"),
        ]
        detail = (await svc.http.get(f"/api/v1/segments/{sid}", headers=h)).json()
        assert detail["memberCount"] == 1

        # a stale counters event (older asOf) does not undo the newer one
        await events.send(
            events.counters(
                club, "ann", as_of=NOW - timedelta(days=1), lastBookingAt=NOW - timedelta(days=90)
            )
        )
        await events.send(
            events.updated(club, "bob", handicap=12.5)
        )  # a later event, to know the stale one passed
        await wait_for(lambda: _handicap(svc, club, "bob"), what="bob's handicap")
        assert await members_of(svc, club, sid) == {"bob"}

        # time passes: 29 more days and ann's booking (1 day ago) is 30+ days old; the maintenance loop notices
        clock.advance(days=30)
        await wait_for(lambda: _is(members_of(svc, club, sid), {"ann", "bob"}), what="ann back through time")
        last = (await published(svc, "segment.member_entered", tenant=club))[-1]
        assert (last.payload.profileId, last.payload.reason) == ("ann", "time")

        # the other club's Gold "ann" never shows up, and cannot see this club's segment
        assert await members_of(svc, other, sid) == set()
        h2 = auth_headers(other, ["marketer"])
        assert (await svc.http.get(f"/api/v1/segments/{sid}", headers=h2)).status_code == 404
        assert (await svc.http.get(f"/api/v1/segments/{sid}/members", headers=h2)).status_code == 404
        assert (await svc.http.post(f"/api/v1/segments/{sid}/refresh", headers=h2)).status_code == 404
        assert (await svc.http.get("/api/v1/segments", headers=h2)).json()["items"] == []
        r = await svc.http.post(
            "/api/v1/segments/preview",
            headers=h2,
            json={"criteria": {"rules": [rule("membershipTier", "eq", "Gold")]}},
        )
        assert r.json()["estimatedSize"] == 1 and [p["email"] for p in r.json()["sample"]] == [
            "ann@other.com"
        ]


async def _is(coro, expected: set[str]) -> bool:
    return await coro == expected


async def _counted(svc, tenant: str, pid: str) -> bool:
    from seg_helpers import sql

    rows = await sql(
        svc,
        "SELECT booking_count_30d FROM profiles WHERE tenant_id = :t AND profile_id = :p",
        t=tenant,
        p=pid,
    )
    return bool(rows) and rows[0][0] == 2


async def _handicap(svc, tenant: str, pid: str) -> bool:
    from seg_helpers import sql

    rows = await sql(
        svc, "SELECT handicap FROM profiles WHERE tenant_id = :t AND profile_id = :p", t=tenant, p=pid
    )
    return bool(rows) and rows[0][0] == 12.5
