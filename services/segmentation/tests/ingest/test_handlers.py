"""The read model: merges re-key people (and their explicit memberships), erasure purges them for good, late
events about either never bring them back, and an unmerge restores the person."""

from datetime import timedelta

from seg_helpers import NOW, Events, members_of, published, rule, sql, tenant_id

from fairway_chassis import ManualClock
from fairway_segmentation.app import create_app
from fairway_testkit import auth_headers, run_service, wait_for


async def _row(svc, tenant: str, pid: str, cols: str = "profile_id") -> tuple | None:
    rows = await sql(
        svc, f"SELECT {cols} FROM profiles WHERE tenant_id = :t AND profile_id = :p", t=tenant, p=pid
    )
    return tuple(rows[0]) if rows else None


async def test_merge_rekeys_and_erasure_purges(seg_settings, events: Events) -> None:
    club = tenant_id()
    async with run_service(create_app(seg_settings(), clock=ManualClock(NOW))) as svc:
        h = auth_headers(club, ["marketer"])
        await events.send(
            events.created(club, "win", email="w@x.com", membershipTier="Gold"),
            events.created(club, "lose", email="l@x.com", membershipTier="Gold", tags=["vip"]),
            events.created(club, "gone", email="g@x.com", membershipTier="Gold", phone="+27821234567"),
            events.counters(club, "win", bookingCount30d=1, lastBookingAt=NOW - timedelta(days=2)),
            events.counters(club, "lose", bookingCount30d=2, lastBookingAt=NOW - timedelta(days=1)),
            events.scores(club, "lose", engagement=80, segment="Loyal regulars"),
        )
        await wait_for(lambda: _row(svc, club, "lose", "engagement_score"), what="lose's scores")
        await wait_for(lambda: _row(svc, club, "win", "booking_count_30d"), what="win's counters")
        await wait_for(lambda: _row(svc, club, "gone"), what="gone's profile")  # another partition: own pace
        gold = (
            await svc.http.post(
                "/api/v1/segments",
                headers=h,
                json={
                    "name": "Gold",
                    "syncToMessaging": True,
                    "criteria": {"rules": [rule("membershipTier", "eq", "Gold")]},
                },
            )
        ).json()
        vip = (
            await svc.http.post("/api/v1/segments", headers=h, json={"name": "Picked", "type": "STATIC"})
        ).json()
        r = await svc.http.post(
            f"/api/v1/segments/{vip['id']}/members", headers=h, json={"profileIds": ["lose", "gone"]}
        )
        assert r.json()["changed"] == 2
        assert await members_of(svc, club, gold["id"]) == {"win", "lose", "gone"}

        # identity merges "lose" into "win": lose's rows go, win takes lose's explicit membership and activity
        await events.send(
            events.merged(club, "win", "lose", email="w@x.com", membershipTier="Gold", tags=["vip"])
        )
        await wait_for(lambda: _is_none(_row(svc, club, "lose")), what="loser gone")
        assert await members_of(svc, club, vip["id"]) == {"win", "gone"}
        assert await members_of(svc, club, gold["id"]) == {"win", "gone"}
        win = await _row(
            svc, club, "win", "booking_count_30d, last_booking_at, engagement_score, value_segment, tags"
        )
        assert win == (3, NOW - timedelta(days=1), 80.0, "Loyal regulars", ["vip"])
        moves = {
            (e.event_type, e.payload.segmentId, e.payload.profileId, e.payload.reason)
            for e in await published(svc, "segment.member_entered", "segment.member_exited", tenant=club)
        }
        assert ("segment.member_exited", gold["id"], "lose", "merged") in moves
        assert ("segment.member_exited", vip["id"], "lose", "merged") in moves
        assert ("segment.member_entered", vip["id"], "win", "merged") in moves

        # a late event about the merged-away id does not resurrect it
        await events.send(events.counters(club, "lose", as_of=NOW + timedelta(hours=1), bookingCount30d=9))
        # erasure: gone leaves everything, Messaging is told to remove it, nothing of it stays
        await events.send(events.erased(club, "gone"))
        await wait_for(lambda: _is_none(_row(svc, club, "gone")), what="erased row gone")
        await events.send(
            events.updated(club, "gone", membershipTier="Gold"),
            events.counters(club, "gone", bookingCount30d=4),
            events.updated(club, "win", handicap=3.0),
        )
        await wait_for(lambda: _row(svc, club, "win", "handicap"), what="later events handled")
        await wait_for(lambda: _handicap_is(svc, club, "win", 3.0), what="win's handicap")
        assert await _row(svc, club, "gone") is None and await _row(svc, club, "lose") is None
        assert await members_of(svc, club, vip["id"]) == {"win"}
        assert await members_of(svc, club, gold["id"]) == {"win"}
        pii = await sql(
            svc, "SELECT count(*) FROM profiles WHERE 'g@x.com' = ANY(emails) OR email = 'g@x.com'"
        )
        assert pii[0][0] == 0
        deltas = [e.payload for e in await published(svc, "segment.sync.delta", tenant=club)]
        assert any("gone" in d.removed for d in deltas) and any("lose" in d.removed for d in deltas)
        exits = [
            e.payload
            for e in await published(svc, "segment.member_exited", tenant=club)
            if e.payload.profileId == "gone"
        ]
        assert {(x.segmentId, x.reason) for x in exits} == {(gold["id"], "erased"), (vip["id"], "erased")}
        counts = {
            s["id"]: s["memberCount"]
            for s in (await svc.http.get("/api/v1/segments", headers=h)).json()["items"]
        }
        assert counts == {gold["id"]: 1, vip["id"]: 1}

        # identity undoes the merge: "lose" is a person again and qualifies by rule
        await events.send(
            events.unmerged(
                club,
                "win",
                "lose",
                {"email": "w@x.com", "membershipTier": "Gold"},
                {"email": "l@x.com", "membershipTier": "Gold"},
            )
        )
        await wait_for(lambda: _row(svc, club, "lose"), what="restored profile")
        await wait_for(lambda: _has(members_of(svc, club, gold["id"]), "lose"), what="restored member")


async def _is_none(coro) -> bool:
    return await coro is None


async def _has(coro, item: str) -> bool:
    return item in await coro


async def _handicap_is(svc, tenant: str, pid: str, value: float) -> bool:
    row = await _row(svc, tenant, pid, "handicap")
    return row is not None and row[0] == value
