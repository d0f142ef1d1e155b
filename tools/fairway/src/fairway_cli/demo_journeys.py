"""The demo club's journeys, created through the public APIs as a marketer would: a welcome series for new members
and a lapsed-golfer re-engagement (entered from a 'Lapsed golfers' segment, goal: a booking within 14 days).
Idempotent: running `make up` again finds them by name."""
from __future__ import annotations

from typing import Any

import httpx

from fairway_chassis.tokens import issue_token

LAPSED_SEGMENT = {
    "name": "Lapsed golfers",
    "description": "Members with no tee-time booking in the last 45 days",
    "criteria": {"combinator": "AND", "rules": [
        {"field": "status", "operator": "eq", "value": "ACTIVE"},
        {"field": "lastBookingAt", "operator": "lt", "value": {"relative": "-45 days"}}]},
}


async def _find(client: httpx.AsyncClient, url: str, name: str) -> dict[str, Any] | None:
    cursor = None
    while True:
        page = (await client.get(url, params={"limit": 200, **({"cursor": cursor} if cursor else {})})).raise_for_status()
        body = page.json()
        hit = next((i for i in body["items"] if i["name"] == name), None)
        if hit or not body.get("nextCursor"):
            return hit
        cursor = body["nextCursor"]


async def seed(secret: str, tenant: str, segmentation_url: str, journeys_url: str,
               mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> list[str]:
    """Returns the two journeys' ids. `mounts`: transports per URL (tests reach the apps in-process)."""
    headers = {"Authorization": f"Bearer {issue_token(secret, tenant=tenant, roles=['marketer'], subject='demo')}"}
    made = []
    async with httpx.AsyncClient(headers=headers, timeout=30, mounts=mounts) as client:
        segment = await _find(client, f"{segmentation_url}/api/v1/segments", LAPSED_SEGMENT["name"])
        if segment is None:
            segment = (await client.post(f"{segmentation_url}/api/v1/segments", json=LAPSED_SEGMENT)
                       ).raise_for_status().json()
        # The journeys service's own templates (GET /journeys/templates): the CLI imports no service code.
        templates = {t["key"]: t for t in (await client.get(f"{journeys_url}/api/v1/journeys/templates")
                                           ).raise_for_status().json()}
        welcome, lapsed = templates["welcome"], templates["lapsed"]
        lapsed["definition"]["trigger"]["segmentId"] = segment["id"]
        for template in (welcome, lapsed):
            j = await _find(client, f"{journeys_url}/api/v1/journeys", template["name"])
            if j is None:
                j = (await client.post(f"{journeys_url}/api/v1/journeys", json={
                    "name": template["name"], "goalText": template["goal"], "definition": template["definition"]})
                     ).raise_for_status().json()
            if j["status"] != "ACTIVE":
                (await client.post(f"{journeys_url}/api/v1/journeys/{j['id']}/activate")).raise_for_status()
            made.append(j["id"])
    return made
