"""A segment's life through PATCH: new criteria, pause and resume, sync switched on and off, renames, lists;
and the lock that keeps a refresh and incremental updates of the same segment from interleaving."""

import asyncio

from seg_helpers import NOW, Events, members_of, published, rule, tenant_id
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_chassis import ManualClock
from fairway_segmentation.app import create_app
from fairway_segmentation.segments.repository import SegmentRepository
from fairway_testkit import auth_headers, run_service, wait_for


async def test_patch_pause_resume_sync_and_list(seg_settings, events: Events) -> None:
    club = tenant_id()
    async with run_service(create_app(seg_settings(), clock=ManualClock(NOW))) as svc:
        h = auth_headers(club, ["marketer"])
        await events.send(
            *[
                events.created(club, f"p{i}", membershipTier=t, handicap=float(i * 6))
                for i, t in enumerate(["Gold", "Gold", "Silver", "Platinum"])
            ]
        )

        async def known() -> bool:
            r = await svc.http.post("/api/v1/segments/preview", headers=h, json={"criteria": {"rules": []}})
            return r.json()["estimatedSize"] == 4

        await wait_for(known, what="profiles")
        sid = (
            await svc.http.post(
                "/api/v1/segments",
                headers=h,
                json={"name": "Gold", "criteria": {"rules": [rule("membershipTier", "eq", "Gold")]}},
            )
        ).json()["id"]
        assert await members_of(svc, club, sid) == {"p0", "p1"}

        r = await svc.http.patch(
            f"/api/v1/segments/{sid}",
            headers=h,
            json={
                "name": "Premium",
                "description": "Gold and Platinum",
                "criteria": {"rules": [rule("membershipTier", "in", ["Gold", "Platinum"])]},
            },
        )
        assert r.status_code == 200 and r.json()["name"] == "Premium" and r.json()["memberCount"] == 3
        assert await members_of(svc, club, sid) == {"p0", "p1", "p3"}
        assert (await published(svc, "segment.member_entered", tenant=club))[-1].payload.reason == "criteria"

        # paused: changes no longer move anyone; resumed: one refresh catches up
        assert (await svc.http.patch(f"/api/v1/segments/{sid}", headers=h, json={"active": False})).json()[
            "active"
        ] is False
        await events.send(events.updated(club, "p2", membershipTier="Gold"), events.created(club, "marker"))
        await wait_for(lambda: _n_known(svc, h, 5), what="marker")
        assert await members_of(svc, club, sid) == {"p0", "p1", "p3"}
        r = await svc.http.patch(f"/api/v1/segments/{sid}", headers=h, json={"active": True})
        assert r.json()["memberCount"] == 4
        assert (await published(svc, "segment.member_entered", tenant=club))[-1].payload.reason == "activated"

        # sync on: Messaging gets the whole list; off: Messaging's list is emptied
        r = await svc.http.patch(f"/api/v1/segments/{sid}", headers=h, json={"syncToMessaging": True})
        assert r.json()["syncToMessaging"] and r.json()["lastSyncedAt"]
        on = (await published(svc, "segment.sync.delta", tenant=club))[-1].payload
        assert on.fullResync and {a.profileId for a in on.added} == {"p0", "p1", "p2", "p3"}
        await svc.http.patch(f"/api/v1/segments/{sid}", headers=h, json={"syncToMessaging": False})
        off = (await published(svc, "segment.sync.delta", tenant=club))[-1].payload
        assert off.fullResync and off.added == [] and off.removed == []
        assert (await svc.http.post(f"/api/v1/segments/{sid}/sync", headers=h)).status_code == 409

        # a smart segment is just a field: the churn risk band, once ml-scoring has scored people
        risky = {"rules": [rule("riskLevel", "in", ["HIGH", "CRITICAL"])]}
        r = await svc.http.post("/api/v1/segments/preview", headers=h, json={"criteria": risky})
        assert r.json()["estimatedSize"] == 0
        assert any(
            "No profile has a value for riskLevel yet (ml-scoring fills it)" in w
            for w in r.json()["warnings"]
        )
        at_risk = (
            await svc.http.post("/api/v1/segments", headers=h, json={"name": "At risk", "criteria": risky})
        ).json()
        await events.send(
            events.scores(club, "p1", churn=81, risk="HIGH", segment="Lapsing socials"),
            events.scores(club, "p2", churn=10, risk="LOW"),
        )
        await wait_for(lambda: _members_are(svc, club, at_risk["id"], {"p1"}), what="p1 at risk")
        await events.send(events.scores(club, "p1", churn=30, risk="MEDIUM", at=NOW.replace(year=2030)))
        await wait_for(lambda: _members_are(svc, club, at_risk["id"], set()), what="p1 no longer at risk")

        # names are unique per club, case-insensitively; lists page and filter
        other = (
            await svc.http.post("/api/v1/segments", headers=h, json={"name": "Picked", "type": "STATIC"})
        ).json()
        assert (
            await svc.http.patch(f"/api/v1/segments/{other['id']}", headers=h, json={"name": "PREMIUM"})
        ).status_code == 409
        page1 = (await svc.http.get("/api/v1/segments", headers=h, params={"limit": 1})).json()
        page2 = (
            await svc.http.get(
                "/api/v1/segments", headers=h, params={"limit": 1, "cursor": page1["nextCursor"]}
            )
        ).json()
        page3 = (
            await svc.http.get(
                "/api/v1/segments", headers=h, params={"limit": 1, "cursor": page2["nextCursor"]}
            )
        ).json()
        assert [s["id"] for s in page1["items"] + page2["items"] + page3["items"]] == sorted(
            [sid, other["id"], at_risk["id"]]
        )
        assert page3["nextCursor"] is None
        statics = (await svc.http.get("/api/v1/segments", headers=h, params={"type": "STATIC"})).json()[
            "items"
        ]
        assert [s["id"] for s in statics] == [other["id"]] and statics[0]["criteria"] is None


async def _members_are(svc, tenant: str, sid: str, expected: set[str]) -> bool:
    return await members_of(svc, tenant, sid) == expected


async def _n_known(svc, h, n: int) -> bool:
    r = await svc.http.post("/api/v1/segments/preview", headers=h, json={"criteria": {"rules": []}})
    return r.json()["estimatedSize"] == n


async def test_a_refresh_excludes_incremental_updates_of_its_segment(engine: AsyncEngine) -> None:
    sm = async_sessionmaker(engine)
    async with sm() as refresh, refresh.begin():
        await SegmentRepository.for_tenant(refresh, "club-a").lock("s1")

        async def incremental() -> None:
            async with sm() as s, s.begin():
                await SegmentRepository.for_tenant(s, "club-a").lock_shared(["s0", "s1"])

        async def other_segment() -> None:
            async with sm() as s, s.begin():
                await SegmentRepository.for_tenant(s, "club-a").lock_shared(["s2"])

        await asyncio.wait_for(other_segment(), 5)  # other segments are not held up
        waiting = asyncio.create_task(incremental())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        async with sm() as s, s.begin():
            assert not await SegmentRepository.for_tenant(s, "club-a").try_lock("s1")  # a replica's maintenance skips it
    await asyncio.wait_for(waiting, 5)  # released at the refresh's commit
