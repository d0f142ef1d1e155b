"""Copy from the AI gateway over Kafka request/reply: the real gateway (offline, so its template fallback answers)
runs beside the campaigns service; what it marks requiresApproval is held by the approval gate."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from camp_helpers import TENANT, Api

from fairway_ai_gateway.app import create_app as create_gateway
from fairway_ai_gateway.settings import Settings as GatewaySettings
from fairway_events import TopicNames
from fairway_testkit import RunningService, auth_headers, run_service, wait_for


@pytest.fixture
async def gateway(settings_for: Callable[..., Any], pg_server_url: str, database_name: str,
                  created_topics: TopicNames) -> AsyncIterator[RunningService]:
    name = f"{database_name}_gw"
    try:
        async with run_service(create_gateway(settings_for(GatewaySettings, database_name=name,
                                                           anthropic_api_key=None))) as running:
            yield running
    finally:
        conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _generate(svc: RunningService, campaign_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The gateway's consumer group joins a moment after it starts: ask until it answers."""
    api = Api(svc)

    async def answer() -> dict[str, Any] | None:
        r = await svc.http.post(f"/api/v1/campaigns/{campaign_id}/content/generate", json=body, headers=api.headers)
        if r.status_code == 503:
            return None
        assert r.status_code == 200, r.text
        return r.json()

    return await wait_for(answer, timeout=120, interval=0.5, what="the AI gateway to answer")


async def test_generated_subject_and_variants_and_their_approval(svc: RunningService,
                                                                 gateway: RunningService) -> None:
    api = Api(svc)
    c = await api.create()
    out = await _generate(svc, c["id"], {"channel": "EMAIL", "field": "subject", "tone": "PLAYFUL"})
    assert out["source"] in ("LLM", "CACHE", "FALLBACK") and out["variants"]
    email = out["campaign"]["content"]["EMAIL"]
    assert email["subject"] == out["variants"][0]["content"] and email["generatedBy"]
    assert email["requiresApproval"] is out["requiresApproval"]

    out = await _generate(svc, c["id"], {"channel": "EMAIL", "field": "subject", "variants": 3,
                                         "use": "AB_VARIANTS"})
    variants = out["campaign"]["abTest"]["variants"]
    assert [v["name"] for v in variants] == ["A", "B", "C"]
    assert [v["subject"] for v in variants] == [v["content"] for v in out["variants"]]

    # The gateway asks for approval by default (its tenant config's requireApproval): scheduling waits for a person.
    assert out["requiresApproval"]
    assert (await api.action(c["id"], "schedule"))["state"] == "PENDING_APPROVAL"
    admin = auth_headers(TENANT, ("admin",))
    pending = (await svc.http.get("/api/v1/approvals", headers=admin)).json()["items"]
    assert {a["variant"] for a in pending if a["campaignId"] == c["id"]} >= {"A", "B", "C"}
    assert all(a["gatewayFlagged"] for a in pending if a["variant"])

    r = await svc.http.post(f"/api/v1/campaigns/{c['id']}/content/generate", json={"channel": "SMS"},
                            headers=api.headers)
    assert r.status_code in (409, 422)  # scheduled by now (409), or SMS is not one of its channels (422)
