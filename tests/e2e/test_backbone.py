"""First end-to-end test: an upstream event reaches a consumer and takes effect once; a replayed duplicate has
no second effect; a malformed event lands in the DLQ with its reason. Through the CLI, the topics and HTTP."""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx

from fairway_testkit import wait_for

from .conftest import Platform


async def sync_log(client: httpx.AsyncClient, platform: Platform, tenant: str, event_id: str) -> list[dict]:
    r = await client.get(f"{platform.url('identity')}/api/v1/sync-log", params={"eventId": event_id},
                         headers={"Authorization": f"Bearer {platform.token(tenant)}"})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["items"] if isinstance(body, dict) else body


async def test_every_service_is_ready_and_the_demo_club_flows(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service in ("identity", "timeline", "segmentation", "campaigns", "journeys", "social", "ml-scoring",
                        "ai-gateway"):
            r = await client.get(f"{platform.url(service)}/readyz")
            assert r.status_code == 200, f"{service}: {r.text}"
        headers = {"Authorization": f"Bearer {platform.token('demo', 'staff')}"}

        async def demo_profiles() -> int:
            # wait_for returns the first truthy value: report 0 until the club is all there, so a partly seeded
            # club is waited for rather than asserted on.
            r = await client.get(f"{platform.url('identity')}/api/v1/customers", params={"limit": 100},
                                 headers=headers)
            count = len(r.json()["items"]) if r.status_code == 200 else 0
            return count if count >= 40 else 0

        assert await wait_for(demo_profiles, timeout=120, interval=1, what="demo members in identity") >= 40


async def test_effect_once_duplicate_ignored_poison_dead_lettered(platform: Platform, tmp_path: Path) -> None:
    tenant = f"e2e-{uuid.uuid4().hex[:6]}"
    email = f"{uuid.uuid4().hex[:8]}@e2e.example"
    event = {"id": str(uuid.uuid4()), "type": "teetime.booking.created", "tenantId": tenant,
             "timestamp": "2026-11-01T08:00:00+00:00", "identity": {"email": email, "teetimePlayerId": "TT-E2E"},
             "payload": {"bookingId": "BK-1", "teeTime": "2026-11-03T07:10:00+00:00", "players": 2}}
    file = tmp_path / "booking.json"
    file.write_text(json.dumps(event))
    platform.cli("publish", "teetime.events", str(file), "--key", "TT-E2E")

    async with httpx.AsyncClient(timeout=5) as client:
        entries = await wait_for(lambda: sync_log(client, platform, tenant, event["id"]), timeout=60,
                                 what="identity applied the upstream event")
        assert len(entries) == 1

        # The same event again (an upstream retry), then a marker on the same key: once the marker is applied,
        # the duplicate before it on the same partition has been consumed too.
        platform.cli("publish", "teetime.events", str(file), "--key", "TT-E2E")
        marker = {**event, "id": str(uuid.uuid4()), "payload": {"bookingId": "BK-2"}}
        (tmp_path / "marker.json").write_text(json.dumps(marker))
        platform.cli("publish", "teetime.events", str(tmp_path / "marker.json"), "--key", "TT-E2E")
        await wait_for(lambda: sync_log(client, platform, tenant, marker["id"]), timeout=60, what="marker applied")
        assert len(await sync_log(client, platform, tenant, event["id"])) == 1

        r = await client.get(f"{platform.url('identity')}/api/v1/customers/resolve", params={"email": email},
                             headers={"Authorization": f"Bearer {platform.token(tenant)}"})
        assert r.status_code == 200, r.text

        # Another tenant's token sees nothing of it.
        assert await sync_log(client, platform, "someone-else", event["id"]) == []

    # A malformed event: the consumers keep going, the DLQ holds it with the reason and the original bytes.
    poison = f"{{not json {uuid.uuid4().hex}"
    platform.cli("publish", "teetime.events", "-", input=poison + "\n")

    async def poison_letters() -> list[dict]:
        await asyncio.sleep(0.5)
        return [d for d in platform.dead_letters("teetime.events") if d["value"] == poison]

    letters = await wait_for(poison_letters, timeout=60, what="the malformed event in the DLQ")
    assert all("malformed JSON" in d["reason"] and d["kind"] == "malformed" for d in letters)
    assert any(d["consumer"].startswith("identity") for d in letters)
