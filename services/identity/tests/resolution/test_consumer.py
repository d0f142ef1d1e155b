"""Upstream events through the real broker and the real consumer: resolution, the sync log, what identity
publishes, conflicts, shared values, and parallel duplicates."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from fairway_events import Delivery, Retryable
from fairway_events.envelope import decode_raw
from fairway_events.registry import registry
from fairway_identity.app import create_app
from fairway_identity.resolution.handlers import ResolveBatch
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service, upstream_event

A = auth_headers("club-a", ["staff"])


async def test_events_resolve_to_profiles_and_every_applied_event_is_in_the_sync_log(
    settings_for, upstream, db
):
    async with run_service(create_app(settings_for(Settings))) as svc:
        e1 = await upstream.send(
            "scl.member.created",
            "club-a",
            {"sclMemberId": 7, "email": " Ann@X.com ", "phoneNumber": "082 123 4567"},
            {"firstName": "Ann", "lastName": "Lee", "membershipTier": "Gold"},
        )
        await db.applied(svc, e1)
        e2 = await upstream.send(
            "teetime.booking.created",
            "club-a",
            {"email": "ann@x.com", "teetimePlayerId": "tp1"},
            {"bookingId": "b1"},
        )
        junk = await upstream.send(
            "messaging.email.sent", "club-a", {"email": "noemail@club.co.za"}, {"messageId": "m1"}
        )
        other = await upstream.send("scl.member.created", "club-b", {"sclMemberId": 7, "email": "ann@x.com"})
        await db.applied(svc, e2, junk, other)
        # A redelivery (same event id) is not applied twice.
        await upstream.send(
            "scl.member.created", "club-a", {"sclMemberId": 7, "email": "ann@x.com"}, event_id=e1
        )
        marker = await upstream.send("scl.member.updated", "club-a", {"sclMemberId": 7})
        await db.applied(svc, marker)

        profiles = await db.rows(svc, "SELECT id::text AS id, tenant_id FROM profile ORDER BY tenant_id")
        assert [p["tenant_id"] for p in profiles] == [
            "club-a",
            "club-b",
        ]  # same keys, other tenant: other person
        pid = profiles[0]["id"]

        r = await svc.http.get(f"/api/v1/sync-log?eventId={e1}", headers=A)
        assert r.status_code == 200
        [entry] = r.json()["items"]  # exactly once
        assert (entry["profileId"], entry["status"], entry["source"], entry["type"]) == (
            pid,
            "APPLIED",
            "scl",
            "scl.member.created",
        )
        r = await svc.http.get(f"/api/v1/sync-log?eventId={junk}", headers=A)
        assert r.json()["items"][0]["status"] == "SKIPPED" and r.json()["items"][0]["profileId"] is None
        r = await svc.http.get("/api/v1/sync-log?type=teetime.booking.created", headers=A)
        assert [(i["eventId"], i["matchedBy"], i["confidence"]) for i in r.json()["items"]] == [
            (e2, ["email"], 95)
        ]
        r = await svc.http.get(f"/api/v1/sync-log?eventId={other}", headers=A)
        assert r.json()["items"] == []  # club-b's event is not club-a's to see
        page = (await svc.http.get("/api/v1/sync-log?limit=2", headers=A)).json()
        rest = (await svc.http.get(f"/api/v1/sync-log?limit=2&cursor={page['nextCursor']}", headers=A)).json()
        assert len(page["items"]) == 2 and len(rest["items"]) == 2 and rest["nextCursor"] is None
        assert (await svc.http.get("/api/v1/sync-log?cursor=%%%", headers=A)).json()["detail"][0][
            "field"
        ] == "cursor"

        # What other services learn: created (tied to the event that created it), then the new key.
        out = await db.outbox(svc, "profile.created", "profile.identity_linked", "profile.updated")
        created = next(o for o in out if o["type"] == "profile.created" and o["key"] == pid)
        assert created["sourceEventId"] == e1
        snap = created["profile"]
        assert snap["identities"]["email"] == ["ann@x.com"] and snap["identities"]["phoneNumber"] == [
            "+27821234567"
        ]
        assert snap["attributes"]["firstName"] == "Ann" and snap["attributes"]["membershipTier"] == "Gold"
        linked = [o for o in out if o["type"] == "profile.identity_linked" and o["key"] == pid]
        assert [
            (x["keyType"], x["value"], x["sourceEventId"], x["matchedBy"], x["confidence"]) for x in linked
        ] == [("teetimePlayerId", "tp1", e2, ["email"], 95)]
        # identity_key is the truth: a profile whose cached identities drifted heals instead of stalling the consumer.
        async with svc.runtime.engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(
                text("UPDATE profile SET identities = '{}' WHERE id = CAST(:p AS uuid)"), {"p": pid}
            )
        healed = await upstream.send(
            "teetime.round.played", "club-a", {"teetimePlayerId": "tp1"}, {"roundId": "r1"}
        )
        await db.applied(svc, healed)
        r = await svc.http.get(f"/api/v1/sync-log?eventId={healed}", headers=A)
        assert r.json()["items"][0]["profileId"] == pid
        ids = (await svc.http.get(f"/api/v1/customers/{pid}", headers=A)).json()["identities"]
        assert ids["email"] == ["ann@x.com"] and ids["teetimePlayerId"] == ["tp1"]
        log = await db.rows(svc, "SELECT detail FROM event_log WHERE event_id = :e", e=junk)
        assert log[0]["detail"]["rejected"] == [
            {"keyType": "email", "value": "noemail@club.co.za", "reason": "placeholder email"}
        ]


async def test_conflicts_become_candidates_and_shared_values_get_blocked(settings_for, upstream, db):
    async with run_service(create_app(settings_for(Settings))) as svc:
        a = await upstream.send("messaging.email.opened", "club-a", {"email": "a@x.com"}, {"messageId": "m"})
        b = await upstream.send(
            "messaging.sms.sent", "club-a", {"phoneNumber": "0821234567"}, {"messageId": "m"}
        )
        await db.applied(svc, a, b)
        both = await upstream.send(
            "contactPreference.updated",
            "club-a",
            {"email": "a@x.com", "phoneNumber": "+27 82 123 4567"},
            {"emailOptIn": True},
        )
        await db.applied(svc, both)
        statuses = await db.rows(svc, "SELECT status FROM profile")
        assert [s["status"] for s in statuses] == ["ACTIVE", "ACTIVE"]  # not merged
        r = (await svc.http.get("/api/v1/customers/merge-candidates", headers=A)).json()
        [cand] = r["items"]
        assert cand["status"] == "OPEN" and cand["conflictKeys"] == ["phoneNumber:+27821234567"]
        assert {(e["keyType"], e["role"]) for e in cand["evidence"]} == {
            ("phoneNumber", "conflict"),
            ("email", "match"),
        }
        assert [o["candidateId"] for o in await db.outbox(svc, "profile.merge_candidate")] == [cand["id"]]

        # One reception number on three members' records: it stops being an identifier.
        first = await upstream.send(
            "scl.member.created", "club-a", {"sclMemberId": "1", "phoneNumber": "021 555 0100"}
        )
        await db.applied(svc, first)
        more = [
            await upstream.send(
                "scl.member.created", "club-a", {"sclMemberId": str(n), "phoneNumber": "0215550100"}
            )
            for n in (2, 3)
        ]
        await db.applied(svc, *more)
        blocked = await db.rows(svc, "SELECT key_type, value, reason FROM blocked_value")
        assert [(x["key_type"], x["value"]) for x in blocked] == [("phoneNumber", "+27215550100")]
        assert await db.rows(svc, "SELECT 1 FROM identity_key WHERE value = '+27215550100'") == []
        # No open candidate rests on the blocked value (dismissed, or never opened if in the same batch).
        r = (await svc.http.get("/api/v1/customers/merge-candidates", headers=A)).json()
        assert [c["id"] for c in r["items"]] == [cand["id"]]
        dismissed = (
            await svc.http.get("/api/v1/customers/merge-candidates?status=DISMISSED", headers=A)
        ).json()
        assert all(c["resolution"] == "conflicting values are blocked" for c in dismissed["items"])
        only = await upstream.send(
            "messaging.sms.sent", "club-a", {"phoneNumber": "+27215550100"}, {"messageId": "x"}
        )
        await db.applied(svc, only)
        assert (await svc.http.get(f"/api/v1/sync-log?eventId={only}", headers=A)).json()["items"][0][
            "status"
        ] == "SKIPPED"
        owner = await db.rows(svc, "SELECT identities FROM profile WHERE identities->'sclMemberId' ? '1'")
        assert owner[0]["identities"] == {"sclMemberId": ["1"]}
        unlinked = [o for o in await db.outbox(svc, "profile.updated") if "identities" in o["changes"]]
        assert unlinked and unlinked[0]["changes"]["identities"]["phoneNumber"] == []

        # Staff dismiss the email/phone candidate: the pair is not proposed again.
        assert (
            await svc.http.post(f"/api/v1/customers/merge-candidates/{cand['id']}/dismiss", headers=A)
        ).status_code == 204
        again = await upstream.send(
            "messaging.email.opened",
            "club-a",
            {"email": "a@x.com", "phoneNumber": "0821234567"},
            {"messageId": "n"},
        )
        await db.applied(svc, again)
        assert (await svc.http.get("/api/v1/customers/merge-candidates", headers=A)).json()["items"] == []


def delivery(tenant: str, identity: dict, event_type: str = "teetime.booking.created", **payload) -> Delivery:
    wire = upstream_event(event_type, tenant, identity, payload or {"bookingId": uuid.uuid4().hex})
    return Delivery(envelope=registry.validate(decode_raw(wire)), headers={})


async def test_a_concurrent_duplicate_waits_retries_and_finds_the_same_person(settings_for, db):
    settings = settings_for(Settings)
    async with run_service(create_app(settings)) as svc:
        sessionmaker: async_sessionmaker = svc.runtime.sessionmaker
        handler = ResolveBatch(settings.policy_for)
        person = {"email": "new@x.com", "phoneNumber": "0821234567"}
        async with sessionmaker() as s1, sessionmaker() as s2:
            await s1.begin()
            await s2.begin()
            await handler(s1, [delivery("club-a", person)])
            second = asyncio.create_task(handler(s2, [delivery("club-a", {**person, "email": "NEW@x.com "})]))
            await asyncio.sleep(0.5)
            assert not second.done()  # blocked on the key the first transaction is inserting
            await s1.commit()
            with pytest.raises(Retryable):
                await second
            await s2.rollback()
        async with sessionmaker.begin() as s3:  # the consumer's retry
            await handler(s3, [delivery("club-a", person)])
        assert len(await db.rows(svc, "SELECT id FROM profile")) == 1
        log = await db.rows(svc, "SELECT DISTINCT profile_id FROM event_log")
        assert len(log) == 1


async def test_many_parallel_duplicates_across_two_instances_are_one_profile(settings_for, upstream, db):
    settings = settings_for(Settings, consumer_batch_size=5)
    async with run_service(create_app(settings)) as one, run_service(create_app(settings)) as two:
        spellings = [
            {"email": "dup@x.com", "phoneNumber": "082 765 4321"},
            {"email": " DUP@x.com", "phoneNumber": "+27827654321"},
            {"phoneNumber": "27827654321", "email": "dup@X.COM"},
        ]
        ids = [
            await upstream.send(
                "teetime.booking.created",
                "club-a",
                spellings[i % 3],
                {"bookingId": f"b{i}"},
                key=uuid.uuid4().hex,
            )  # spread over every partition
            for i in range(60)
        ]
        await db.applied(one, *ids, timeout=60)
        profiles = await db.rows(one, "SELECT id::text AS id, identities FROM profile")
        assert len(profiles) == 1
        assert profiles[0]["identities"] == {"email": ["dup@x.com"], "phoneNumber": ["+27827654321"]}
        applied = await db.rows(two, "SELECT count(*) AS n, count(DISTINCT profile_id) AS p FROM event_log")
        assert applied == [{"n": 60, "p": 1}]
        created = await db.outbox(one, "profile.created")
        assert len(created) == 1 and json.dumps(created[0]).count("dup@x.com") == 1
