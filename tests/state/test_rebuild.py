"""Read models rebuilt from the state topics alone (issue 13): identity takes in three members with their consent
and erases one; the 30-day topics are then deleted, and segmentation, timeline, campaigns and journeys start with
fresh consumer groups. Each has every live profile with its current consent, and no trace of the erased person's
personal data in any table.

Everything is real: identity builds and publishes the snapshots and the tombstone (Tansu does not compact, so the
erased person's earlier snapshot is still on the topic and the tombstone must undo it), each service runs in
process on a database of its own, and the readers are the services' own state consumers.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from fairway_campaigns.app import create_app as campaigns_app
from fairway_campaigns.settings import Settings as CampaignsSettings
from fairway_events import TOPICS, TopicNames
from fairway_identity.app import create_app as identity_app
from fairway_identity.settings import Settings as IdentitySettings
from fairway_journeys.app import create_app as journeys_app
from fairway_journeys.settings import Settings as JourneysSettings
from fairway_segmentation.app import create_app as segmentation_app
from fairway_segmentation.settings import Settings as SegmentationSettings
from fairway_testkit import RunningService, auth_headers, run_service, send_upstream, wait_for
from fairway_timeline.app import create_app as timeline_app
from fairway_timeline.settings import Settings as TimelineSettings

CLUB = "club-rebuild"
ADMIN = auth_headers(CLUB, ["admin"])
PEOPLE = {  # scl member id -> (first name, last name, email, phone)
    "scl-ann": ("Annelise", "Vosloo", "annelise.vosloo@fairwaygolf.co.za", "+27821000001"),
    "scl-bob": ("Bongani", "Dlamini", "bongani.dlamini@fairwaygolf.co.za", "+27821000002"),
    "scl-cat": ("Catharina", "Oosthuizen", "catharina.oosthuizen@fairwaygolf.co.za", "+27821000003"),
}
ERASED = "scl-cat"
# The consent each live person ends with (each changed their mind once: the state topic must carry the last word).
CONSENT = {"scl-ann": [{"emailOptIn": False}, {"emailOptIn": True, "smsOptIn": False}],
           "scl-bob": [{"emailOptIn": True, "smsOptIn": True}, {"emailOptIn": False}]}
CURRENT = {"scl-ann": (True, False), "scl-bob": (False, True)}  # (emailOptIn, smsOptIn)
READERS = {
    "segmentation": (segmentation_app, SegmentationSettings, {}),
    "timeline": (timeline_app, TimelineSettings, {}),
    "campaigns": (campaigns_app, CampaignsSettings, {}),
    "journeys": (journeys_app, JourneysSettings, {}),
}


@pytest.fixture
async def databases(pg_server_url: str, database_name: str) -> AsyncIterator[dict[str, str]]:
    """A database per service (each creates and migrates its own on start); dropped afterwards."""
    names = {s: f"{database_name}_{s}" for s in ("identity", *READERS)}
    yield names
    conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
    try:
        for name in names.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def rows(svc: RunningService, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    assert svc.runtime.engine is not None
    async with svc.runtime.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def tables_mentioning(svc: RunningService, needle: str) -> list[str]:
    """Every table of the service's database with a row whose text contains `needle` (case-insensitive)."""
    tables = [t for (t,) in await rows(svc, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return [t for t in tables
            if (await rows(svc, f'SELECT count(*) FROM "{t}" x WHERE x::text ILIKE :n', n=f"%{needle}%"))[0][0]]  # noqa: S608


async def identity_phase(settings_for: Any, databases: dict[str, str], producer: AIOKafkaProducer,
                         topics: TopicNames) -> dict[str, str]:
    """identity takes in the members and their consent, announces them, erases one; returns scl id -> profile id."""
    settings = settings_for(IdentitySettings, database_name=databases["identity"], state_publish_seconds=0.2)
    async with run_service(identity_app(settings)) as svc:
        for scl, (first, last, email, phone) in PEOPLE.items():
            await send_upstream(producer, topics, "scl.member.created", CLUB,
                                {"sclMemberId": scl, "email": email, "phoneNumber": phone},
                                {"firstName": first, "lastName": last, "membershipTier": "Gold"})

        async def resolved() -> dict[str, str] | None:
            out = {}
            for scl in PEOPLE:
                r = await svc.http.get(f"/api/v1/customers/resolve?sclMemberId={scl}", headers=ADMIN)
                if r.status_code != 200:
                    return None
                out[scl] = r.json()["profile"]["id"]
            return out

        ids = await wait_for(resolved, timeout=120, what="identity created the members")
        for scl, changes in CONSENT.items():
            for change in changes:
                await send_upstream(producer, topics, "contactPreference.updated", CLUB, {"email": PEOPLE[scl][2]},
                                    change)

        async def consented() -> bool:
            consent = dict(await rows(svc, "SELECT id::text, consent->'flags' FROM profile WHERE tenant_id = :t",
                                      t=CLUB))
            return all((consent.get(ids[s]) or {}).get(flag) is value for s in CURRENT
                       for flag, value in zip(("emailOptIn", "smsOptIn"), CURRENT[s], strict=True))

        await wait_for(consented, timeout=120, what="identity applied the consent")

        async def announced() -> bool:
            pending = (await svc.http.get("/api/v1/admin/state", headers=ADMIN)).json()["topics"]
            unpublished = await rows(svc, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            return pending == {"crm.identity.state": 0} and unpublished == [(0,)]

        await wait_for(announced, timeout=60, what="every snapshot published")  # the erased one's too
        assert (await svc.http.delete(f"/api/v1/customers/{ids[ERASED]}", headers=ADMIN)).status_code == 200
        await wait_for(announced, timeout=60, what="the tombstone published")
    return ids


async def test_every_read_model_rebuilds_from_the_state_topics(settings_for: Any, databases: dict[str, str],
                                                               producer: AIOKafkaProducer, kafka_bootstrap: str,
                                                               topics: TopicNames) -> None:
    ids = await identity_phase(settings_for, databases, producer, topics)
    ann, bob, cat = ids["scl-ann"], ids["scl-bob"], ids[ERASED]

    # The 30-day topics are gone (expired, say): only the compacted state topics are left.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        present = set(await admin.list_topics())
        doomed = [topics(t.name) for t in TOPICS if not t.compacted and topics(t.name) in present]
        assert topics("crm.identity") in doomed
        await admin.delete_topics(doomed)
    finally:
        await admin.close()

    async with AsyncExitStack() as stack:
        svcs: dict[str, RunningService] = {}
        for name, (make_app, settings_cls, overrides) in READERS.items():
            settings = settings_for(settings_cls, database_name=databases[name], **overrides)
            svcs[name] = await stack.enter_async_context(run_service(make_app(settings)))
        seg, timeline = svcs["segmentation"], svcs["timeline"]

        async def profiles(svc: RunningService, sql: str) -> set[tuple[Any, ...]] | None:
            got = set(await rows(svc, sql, t=CLUB))
            return got or None

        # every live profile, with its current consent; the erased one absent
        expected = {(ann, *CURRENT["scl-ann"]), (bob, *CURRENT["scl-bob"])}
        checks = {
            "segmentation": "SELECT profile_id, email_opt_in, sms_opt_in FROM profiles WHERE tenant_id = :t",
            "campaigns": "SELECT profile_id, email_opt_in, sms_opt_in FROM dispatch_profiles "
                         "WHERE tenant_id = :t AND NOT erased",
            "journeys": "SELECT profile_id, (fields->>'emailOptIn')::bool, (fields->>'smsOptIn')::bool FROM members "
                        "WHERE tenant_id = :t",
        }
        for name, sql in checks.items():
            async def rebuilt(svc: RunningService = svcs[name], sql: str = sql) -> bool:
                return await profiles(svc, sql) == expected

            await wait_for(rebuilt, timeout=120, what=f"{name}'s profiles from crm.identity.state")
        key_map = "SELECT DISTINCT profile_id FROM profile_keys WHERE tenant_id = :t"

        async def keys_rebuilt() -> bool:
            return await profiles(timeline, key_map) == {(ann,), (bob,)}

        await wait_for(keys_rebuilt, timeout=120, what="timeline's key map from crm.identity.state")

        # No trace of the erased person's personal data anywhere (her snapshot is still on the topic before the
        # tombstone: it was applied, then undone); the live people's data is found by the same search.
        first, last, email, phone = PEOPLE[ERASED]
        for name, svc in svcs.items():
            for needle in (first, last, email, phone[3:]):
                assert await tables_mentioning(svc, needle) == [], f"{name} still holds {needle!r}"
        for name, svc in svcs.items():
            assert await tables_mentioning(svc, PEOPLE["scl-ann"][2]), f"{name} lost ann's email"
        assert await rows(seg, "SELECT reason FROM profile_tombstones WHERE profile_id = :p", p=cat) == [("erased",)]
