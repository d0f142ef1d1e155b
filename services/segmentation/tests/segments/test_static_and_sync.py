"""Static segments (explicit members, CSV import), member pages, Messaging sync deltas and the full resync,
deletion; and the events as consumers receive them from the real broker."""

import json

from aiokafka import AIOKafkaConsumer
from seg_helpers import NOW, Events, members_of, published, tenant_id

from fairway_chassis import ManualClock
from fairway_events import registry
from fairway_events.envelope import decode_raw
from fairway_segmentation import commands
from fairway_segmentation.app import create_app
from fairway_testkit import auth_headers, run_service, wait_for


async def _known(svc, h, n: int) -> bool:
    r = await svc.http.post(
        "/api/v1/segments/preview", headers=h, json={"criteria": {"rules": []}, "sampleSize": 0}
    )
    return r.json()["estimatedSize"] == n


async def test_static_members_csv_import_pages_and_sync(
    seg_settings, events: Events, kafka_bootstrap, topics
) -> None:
    club, other = tenant_id(), tenant_id()
    async with run_service(create_app(seg_settings(), clock=ManualClock(NOW))) as svc:
        h = auth_headers(club, ["marketer"])
        people = [
            events.created(
                club,
                f"p{i:02d}",
                email=f"Person{i}@Club.com",
                membershipNumber=f"M-{i:03d}",
                scl=f"{9000 + i}",
                phone=f"+2782000{i:04d}",
            )
            for i in range(12)
        ]
        await events.send(
            *people, events.created(other, "p99", email="person1@club.com", membershipNumber="M-001")
        )
        await wait_for(lambda: _known(svc, h, 12), what="12 profiles")

        r = await svc.http.post(
            "/api/v1/segments",
            headers=h,
            json={"name": "Captain's invitational", "type": "STATIC", "syncToMessaging": True},
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        csv = (
            "Member Number,Email,Name\n"
            "M-001,,Ann\n"  # by membership number, any case
            ",PERSON2@club.com,Bob\n"  # by email, any case
            "9003,,Cat\n"  # by SCL member id
            "M-404,,Nobody\n"  # unknown
            ",,Empty row\n"  # neither
            "m-001,person1@club.com,Ann again\n"
        )
        r = await svc.http.post(
            f"/api/v1/segments/{sid}/members", headers={**h, "Content-Type": "text/csv"}, content=csv.encode()
        )
        assert r.status_code == 200, r.text
        res = r.json()
        assert (res["matched"], res["changed"], res["memberCount"], res["unmatchedCount"]) == (3, 3, 3, 1)
        assert res["unmatched"] == [{"kind": "memberNumber", "value": "m-404", "row": 5}]
        assert res["invalidRows"] == [6]
        assert await members_of(svc, club, sid) == {"p01", "p02", "p03"}
        assert await members_of(svc, other, sid) == set()  # the other club's person1 is not this club's

        # a header-less CSV: emails and numbers told apart by '@'
        r = await svc.http.post(
            f"/api/v1/segments/{sid}/members",
            headers={**h, "Content-Type": "text/csv"},
            content=b"person4@club.com\nM-005\nperson2@club.com\n",
        )
        assert (r.json()["changed"], r.json()["unchanged"]) == (2, 1)
        r = await svc.http.post(
            f"/api/v1/segments/{sid}/members",
            headers=h,
            json={"profileIds": ["p06", "p99", "nope"], "emails": ["PERSON7@club.com"]},
        )
        assert r.json()["changed"] == 2 and {u["value"] for u in r.json()["unmatched"]} == {"p99", "nope"}
        r = await svc.http.request(
            "DELETE",
            f"/api/v1/segments/{sid}/members",
            headers=h,
            json={"memberNumbers": ["m-005"], "profileIds": ["p11"]},
        )
        assert (r.json()["changed"], r.json()["unchanged"], r.json()["memberCount"]) == (1, 1, 6)
        expected = {"p01", "p02", "p03", "p04", "p06", "p07"}
        assert await members_of(svc, club, sid) == expected

        # member pages with a cursor
        seen, cursor = [], None
        while True:
            r = await svc.http.get(
                f"/api/v1/segments/{sid}/members",
                headers=h,
                params={"limit": 4, **({"cursor": cursor} if cursor else {})},
            )
            seen += [m["profileId"] for m in r.json()["items"]]
            cursor = r.json()["nextCursor"]
            if not cursor:
                break
        assert seen == sorted(expected)
        assert r.json()["items"][-1]["email"] == "Person7@Club.com"
        bad = await svc.http.get(f"/api/v1/segments/{sid}/members", headers=h, params={"cursor": "%%%"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "cursor"

        # the deltas so far add up to the members, with their contact fields
        listed: dict[str, dict] = {}
        for e in await published(svc, "segment.sync.delta", tenant=club):
            for a in e.payload.added:
                listed[a.profileId] = a.model_dump()
            for p in e.payload.removed:
                listed.pop(p, None)
        assert set(listed) == expected
        assert listed["p02"] == {
            "profileId": "p02",
            "email": "Person2@Club.com",
            "phoneNumber": "+27820000002",
            "messagingContactId": "mc-p02",
        }

        # a member's email changes: Messaging gets the new contact without any membership change
        await events.send(events.updated(club, "p03", identities={"email": ["new3@club.com"]}))

        async def new_email() -> bool:
            return any(
                a.email == "new3@club.com"
                for e in await published(svc, "segment.sync.delta", tenant=club)
                for a in e.payload.added
            )

        await wait_for(new_email, what="contact update delta")

        # full resync: one delta with everyone, flagged fullResync, and the last-synced time
        r = await svc.http.post(f"/api/v1/segments/{sid}/sync", headers=h)
        assert r.status_code == 200 and r.json()["events"] == 1
        full = (await published(svc, "segment.sync.delta", tenant=club))[-1].payload
        assert full.fullResync and {a.profileId for a in full.added} == expected and not full.removed
        detail = (await svc.http.get(f"/api/v1/segments/{sid}", headers=h)).json()
        assert detail["lastSyncedAt"] == NOW.isoformat().replace("+00:00", "Z")
        assert [p["reason"] for p in detail["sizeHistory"]] == [
            "created",
            "import",
            "import",
            "static",
            "static",
        ]
        assert [p["memberCount"] for p in detail["sizeHistory"]] == [0, 3, 5, 7, 6]

        # the same from the operator command, for every synced segment of the club (here: this one)
        assert await commands.resync(svc.runtime.sessionmaker, club, clock=ManualClock(NOW)) == {sid: 1}
        assert (await published(svc, "segment.sync.delta", tenant=club))[-1].payload.fullResync

        # a dynamic segment refuses explicit members; a static one refuses refresh
        dyn = (
            await svc.http.post(
                "/api/v1/segments", headers=h, json={"name": "Everyone", "criteria": {"rules": []}}
            )
        ).json()
        assert dyn["memberCount"] == 12
        assert await commands.refresh(svc.runtime.sessionmaker, club, clock=ManualClock(NOW)) == {
            dyn["id"]: (12, 0, 0)
        }
        r = await svc.http.post(
            f"/api/v1/segments/{dyn['id']}/members", headers=h, json={"profileIds": ["p01"]}
        )
        assert r.status_code == 409
        assert (await svc.http.post(f"/api/v1/segments/{sid}/refresh", headers=h)).status_code == 409

        # deleting the static segment: everyone exits, Messaging's list is emptied
        assert (await svc.http.delete(f"/api/v1/segments/{sid}", headers=h)).status_code == 204
        assert (await svc.http.get(f"/api/v1/segments/{sid}", headers=h)).status_code == 404
        exited = [
            e.payload
            for e in await published(svc, "segment.member_exited", tenant=club)
            if e.payload.segmentId == sid and e.payload.reason == "deleted"
        ]
        assert {x.profileId for x in exited} == expected
        last = (await published(svc, "segment.sync.delta", tenant=club))[-1].payload
        assert last.segmentId == sid and last.fullResync and last.added == [] and last.removed == []

        # what consumers get from the broker: registered events, keyed by segment id, in outbox order
        consumer = AIOKafkaConsumer(
            topics("crm.segmentation"),
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            want = len(await published(svc, "segment.member_entered", "segment.member_exited"))
            got: list = []

            async def drained() -> bool:
                batch = await consumer.getmany(timeout_ms=200)
                got.extend(r for rs in batch.values() for r in rs)
                return len(got) >= want

            await wait_for(drained, what="membership events on the broker")
        finally:
            await consumer.stop()
        decoded = [(r.key.decode(), registry.validate(decode_raw(r.value))) for r in got]
        assert all(k == env.aggregate_id == env.payload.segmentId for k, env in decoded)
        mine = [env for _, env in decoded if env.payload.segmentId == sid]
        assert [e.event_type for e in mine] == ["segment.member_entered"] * 7 + ["segment.member_exited"] * 7
        assert json.loads(got[0].value)["source"] == "segmentation"
