"""A person seen by SCL, TeeTime and Messaging becomes one profile in identity, and the timeline hangs every
upstream event on that profile, learning the id only from identity's events."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from fairway_testkit import wait_for

from .conftest import Platform


async def test_one_person_across_three_systems_has_one_profile_and_one_timeline(platform: Platform,
                                                                                 tmp_path: Path) -> None:
    tenant = f"club-{uuid.uuid4().hex[:6]}"
    n = uuid.uuid4().hex[:6]
    email = f"jo.{n}@club.example"
    events = [
        {"id": f"scl-{n}", "type": "scl.member.created", "tenantId": tenant, "timestamp": "2026-10-01T09:00:00Z",
         "identity": {"sclMemberId": 4242, "email": email, "phoneNumber": "082 123 4567"},
         "payload": {"firstName": "Jo", "lastName": "Ndlovu", "membershipTier": "Gold"}},
        {"id": f"tt-{n}", "type": "teetime.booking.created", "tenantId": tenant, "timestamp": "2026-10-02T07:00:00Z",
         "identity": {"teetimePlayerId": "TT-42", "email": email.upper()},
         "payload": {"bookingId": "B-42", "players": 3}},
        {"id": f"msg-{n}", "type": "messaging.email.opened", "tenantId": tenant, "timestamp": "2026-10-03T10:00:00Z",
         "identity": {"messagingContactId": "MC-42", "phoneNumber": "+27 82 123 4567"},
         "payload": {"messageId": "m-1", "campaignId": "autumn"}},
    ]
    for system, event in zip(("scl.events", "teetime.events", "messaging.events"), events, strict=True):
        f = tmp_path / f"{event['id']}.json"
        f.write_text(json.dumps(event))
        platform.cli("publish", system, str(f))

    headers = {"Authorization": f"Bearer {platform.token(tenant, 'staff')}"}
    async with httpx.AsyncClient(timeout=5) as client:
        async def profile() -> dict | None:
            r = await client.get(f"{platform.url('identity')}/api/v1/customers/resolve",
                                 params={"teetimePlayerId": "TT-42"}, headers=headers)
            if r.status_code != 200:
                return None
            p = r.json()["profile"]
            return p if "MC-42" in json.dumps(p) else None  # all three systems linked

        person = await wait_for(profile, timeout=90, what="one profile linking SCL, TeeTime and Messaging")
        listing = (await client.get(f"{platform.url('identity')}/api/v1/customers", headers=headers)).json()
        assert len(listing["items"]) == 1

        async def timeline() -> list[dict]:
            r = await client.get(f"{platform.url('timeline')}/api/v1/customers/{person['id']}/timeline",
                                 headers=headers)
            items = r.json()["items"] if r.status_code == 200 else []
            return items if len(items) == 3 else []

        items = await wait_for(timeline, timeout=90, what="three activities on the profile's timeline")
        assert [i["sourceEventId"] for i in items] == [f"msg-{n}", f"tt-{n}", f"scl-{n}"]  # newest first
        assert {i["profileId"] for i in items} == {person["id"]}

        # Another club's staff cannot see this person.
        other = {"Authorization": f"Bearer {platform.token('another-club', 'admin')}"}
        r = await client.get(f"{platform.url('timeline')}/api/v1/customers/{person['id']}/timeline", headers=other)
        assert r.status_code == 404
        r = await client.get(f"{platform.url('identity')}/api/v1/customers/{person['id']}", headers=other)
        assert r.status_code == 404
