"""profile.update_requested (a journey's UPDATE step): applied once per requestId through the staff-edit path, so
the profile changes and profile.updated is announced."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from fairway_events import TopicNames, registry
from fairway_events.contracts.identity_commands import ProfileUpdateRequested
from fairway_identity.app import create_app
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service, wait_for

T = "stonehaven"


async def test_update_requests_apply_once(settings_for, upstream, db, producer: AIOKafkaProducer,
                                          topics: TopicNames) -> None:
    async with run_service(create_app(settings_for(Settings))) as svc:
        await db.applied(svc, await upstream.send(
            "scl.member.created", T, {"sclMemberId": "SH-104", "email": "isla.munro@stonehavengolf.co.uk"},
            {"firstName": "Isla", "membershipTier": "Gold"}))
        pid = (await db.rows(svc, "SELECT id::text AS id FROM profile"))[0]["id"]

        async def send(cmd: ProfileUpdateRequested) -> None:
            env = registry.envelope(cmd, tenant_id=T, aggregate_id=pid, source="journeys")
            await producer.send_and_wait(topics("crm.identity.commands"), env.to_wire(), key=pid.encode())

        welcome = ProfileUpdateRequested(requestId="req-welcome-1", profileId=pid, sourceKind="JOURNEY",
                                         sourceId="j-welcome", addTags=["welcomed", "new-member"],
                                         attributes={"lifecycleStage": "ADVOCATE", "membershipTier": "Platinum"})
        await send(welcome)
        await send(welcome)  # the same request again (a new event id): applied once
        await send(ProfileUpdateRequested(requestId="req-lapsed-1", profileId=pid, sourceKind="JOURNEY",
                                          sourceId="j-lapsed", removeTags=["new-member"]))

        async def updated() -> list[dict]:
            got = await db.outbox(svc, "profile.updated")
            return got if len(got) >= 2 else []

        events = await wait_for(updated, what="two profile.updated events")
        assert events[0]["changes"] == {"tags": ["new-member", "welcomed"], "lifecycleStage": "ADVOCATE"}
        assert events[1]["changes"] == {"tags": ["welcomed"]}
        r = await svc.http.get(f"/api/v1/customers/{pid}", headers=auth_headers(T, ["staff"]))
        body = r.json()
        assert (body["tags"], body["lifecycleStage"], body["attributes"]["membershipTier"]) == (
            ["welcomed"], "ADVOCATE", "Gold")  # membership tier belongs to SCL: never set by a command
        assert len(await db.outbox(svc, "profile.updated")) == 2
