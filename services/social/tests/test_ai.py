"""AI post text through the real AI gateway (in-process, offline: it answers from its templates) over Kafka
request/reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from social_testing import headers

from fairway_ai_gateway.app import create_app as create_gateway
from fairway_ai_gateway.settings import Settings as GatewaySettings
from fairway_events.rpc import RpcTimeout
from fairway_schemas.ai import AI_REQUEST_TOPIC
from fairway_testkit.helpers import RunningService, run_service, wait_for


async def test_generated_text_per_platform_is_checked_against_its_rules(
        social: RunningService, settings_for: Callable[..., Any], database_name: str, pg_server_url: str) -> None:
    gw_db = f"{database_name}_ai"
    try:
        async with run_service(create_gateway(settings_for(GatewaySettings, database_name=gw_db))):
            async def gateway_up() -> bool:  # its request consumer starts at the latest offset: wait until it has joined
                try:
                    await social.runtime.rpc.request(AI_REQUEST_TOPIC, "content.generate", "stonehaven", {  # type: ignore[union-attr]
                        "type": "SMS", "campaignGoal": "warm-up", "variantCount": 1}, timeout=2)
                    return True
                except RpcTimeout:
                    return False

            await wait_for(gateway_up, timeout=120, what="the AI gateway to join its group")
            r = await social.http.post("/api/v1/social/posts/generate", headers=headers(), json={
                "platforms": ["X", "FACEBOOK"], "goal": "Fill the field for the Spring Open stableford",
                "variantCount": 2, "callToAction": "Enter in the app"}, timeout=60)
            assert r.status_code == 200, r.text
            by_platform = {p["platform"]: p for p in r.json()["platforms"]}
            assert set(by_platform) == {"X", "FACEBOOK"}
            for p in by_platform.values():
                assert p["source"] in ("LLM", "CACHE", "FALLBACK") and len(p["variants"]) == 2
                assert all(v["content"] for v in p["variants"])
            assert all(len(v["content"]) <= 280 and v["fits"] for v in by_platform["X"]["variants"])
            bad = await social.http.post("/api/v1/social/posts/generate", headers=headers(),
                                         json={"platforms": ["MYSPACE"], "goal": "x"})
            assert bad.status_code == 422 and bad.json()["detail"][0]["field"].endswith("platforms.0")
    finally:
        conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{gw_db}" WITH (FORCE)')
        finally:
            await conn.close()
