"""crm.identity.state: a reader that starts after the 30-day topics are gone still gets every live profile with its
current consent, and nothing of an erased one; reannouncing a tenant publishes every snapshot again."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from fairway_events import TopicNames
from fairway_identity.app import create_app
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service, wait_for

ADMIN = auth_headers("club-a", ["admin"])


async def read_state(bootstrap: str, topic: str) -> dict[str, dict[str, Any]]:
    """Fold the state topic from the beginning the way a new read model does: snapshot upserts, null deletes."""
    model: dict[str, dict[str, Any]] = {}
    for r in await _records(bootstrap, topic):
        if r.value is None:
            model.pop(r.key.decode(), None)
        else:
            model[r.key.decode()] = orjson.loads(r.value)["payload"]
    return model


async def test_a_late_reader_rebuilds_live_profiles_from_the_state_topic(
    settings_for, upstream, db, kafka_bootstrap: str, topics: TopicNames
) -> None:
    async with run_service(create_app(settings_for(Settings, state_publish_seconds=0.2))) as svc:
        http = svc.http
        ids = [
            await upstream.send("scl.member.created", "club-a", {"sclMemberId": "scl-1", "email": "thandi@fairwaygolf.co.za"},
                                {"firstName": "Thandi", "membershipTier": "Gold"}),
            await upstream.send("scl.member.created", "club-a", {"sclMemberId": "scl-2", "email": "sipho@fairwaygolf.co.za"},
                                {"firstName": "Sipho"}),
            await upstream.send("scl.member.created", "club-a", {"sclMemberId": "scl-3", "email": "lerato@fairwaygolf.co.za"},
                                {"firstName": "Lerato", "lastName": "Mokoena"}),
        ]
        await db.applied(svc, *ids)
        ids = [
            await upstream.send("contactPreference.updated", "club-a", {"email": "thandi@fairwaygolf.co.za"},
                                {"emailOptIn": True, "smsOptIn": True}),
        ]
        await db.applied(svc, *ids)
        ids = [
            await upstream.send("contactPreference.updated", "club-a", {"email": "thandi@fairwaygolf.co.za"},
                                {"emailOptIn": False}),
        ]
        await db.applied(svc, *ids)
        who = {}
        for scl in ("scl-1", "scl-2", "scl-3"):
            who[scl] = (await http.get(f"/api/v1/customers/resolve?sclMemberId={scl}", headers=ADMIN)).json()["profile"]["id"]
        assert (await http.delete(f"/api/v1/customers/{who['scl-3']}", headers=ADMIN)).status_code == 200

        async def announced() -> bool:
            pending = (await http.get("/api/v1/admin/state", headers=ADMIN)).json()["topics"]
            unpublished = await db.rows(svc, "SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL")
            return pending == {"crm.identity.state": 0} and unpublished[0]["n"] == 0

        await wait_for(announced, what="every change announced and published")

        # The 30-day topics are gone: the state topic alone must do.
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([topics("crm.identity")])
        finally:
            await admin.close()
        model = await read_state(kafka_bootstrap, topics("crm.identity.state"))
        assert set(model) == {who["scl-1"], who["scl-2"]}
        thandi = model[who["scl-1"]]
        assert thandi is not None
        assert thandi["profile"]["consent"]["emailOptIn"] is False and thandi["profile"]["consent"]["smsOptIn"] is True
        assert thandi["profile"]["attributes"]["membershipTier"] == "Gold"
        assert "lerato" not in repr(model).lower() and "mokoena" not in repr(model).lower()

        # Reannounce: every row of the tenant goes out again (the broker forgot everything, say).
        before = len(await _records(kafka_bootstrap, topics("crm.identity.state")))
        r = await http.post("/api/v1/admin/state/reannounce", headers=ADMIN)
        assert r.status_code == 200 and r.json()["topics"] == {"crm.identity.state": 3}
        assert (await http.post("/api/v1/admin/state/reannounce",
                                 headers=auth_headers("club-a", ["staff"]))).status_code == 403
        await wait_for(announced, what="reannounced")

        async def republished() -> bool:
            return len(await _records(kafka_bootstrap, topics("crm.identity.state"))) >= before + 3

        await wait_for(republished, what="three more records")
        assert await read_state(kafka_bootstrap, topics("crm.identity.state")) == model


async def _records(bootstrap: str, topic: str) -> list:
    """Every record of the topic, partition by partition in offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list = []
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 (a consumer with no subscription knows no topics yet)
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        while [tp for tp, offset in end.items() if await consumer.position(tp) < offset]:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(recs)
    finally:
        await consumer.stop()
    return sorted(out, key=lambda r: (r.partition, r.offset))
