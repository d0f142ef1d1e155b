"""The service as it runs: Kafka request/reply through the real broker, the admin HTTP API, tenant isolation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from fairway_ai_gateway.app import create_app
from fairway_ai_gateway.settings import Settings
from fairway_events.rpc import RemoteError, RpcClient, RpcTimeout
from fairway_schemas.ai import AI_REQUEST_TOPIC, SegmentParseRequest, SegmentParseResult
from fairway_testkit import auth_headers, run_service


async def first_reply(
    client: RpcClient, operation: str, tenant: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """The responder's consumer group joins a moment after start; ask until it answers."""
    for _ in range(30):
        try:
            return await client.request(AI_REQUEST_TOPIC, operation, tenant, payload, timeout=2)
        except RpcTimeout:
            continue
    raise AssertionError("the gateway never answered over Kafka")


async def test_operations_over_kafka_request_reply(
    gw_settings, producer, kafka_bootstrap, topics, fake_provider
):
    app = create_app(gw_settings())
    async with run_service(app):
        client = RpcClient(kafka_bootstrap, producer, topics)
        await client.start()
        try:
            # what the segmentation service sends
            request = SegmentParseRequest(query="Gold members who haven't played in 30 days")
            reply = await first_reply(client, "segment.parse", "club-a", request.model_dump(mode="json"))
            result = SegmentParseResult.model_validate(reply)
            assert result.source == "LLM" and result.decisionId
            assert result.criteria.dump()["rules"][0] == {
                "field": "membershipTier",
                "operator": "eq",
                "value": "Gold",
            }
            reply = await client.request(
                AI_REQUEST_TOPIC,
                "content.generate",
                "club-a",
                {"type": "PUSH", "campaignGoal": "Fill the Saturday tee sheet", "variantCount": 2},
                timeout=15,
            )
            assert reply["source"] == "LLM" and len(reply["variants"]) == 2
            assert all(len(v["content"]) <= 50 for v in reply["variants"])
            with pytest.raises(RemoteError) as err:
                await client.request(AI_REQUEST_TOPIC, "segment.parse", "club-a", {"query": ""}, timeout=15)
            assert err.value.type == "RequestRejected" and err.value.detail[0]["field"] == "query"
            with pytest.raises(RemoteError) as err:
                await client.request(
                    AI_REQUEST_TOPIC, "segment.parse", "Not A Tenant!", {"query": "x"}, timeout=15
                )
            assert err.value.detail[0]["field"] == "tenant_id"
        finally:
            await client.stop()


async def test_admin_api_and_tenant_isolation(gw_settings, fake_provider, kafka_bootstrap, topics):
    app = create_app(gw_settings())
    a, b = auth_headers("club-a", ["admin"]), auth_headers("club-b", ["admin"])
    async with run_service(app) as svc:
        http = svc.http
        r = await http.get("/api/v1/admin/ai/config", headers=a)
        assert r.status_code == 200
        doc = r.json()
        assert doc["qualityTier"] == "ECONOMY" and doc["features"]["nlSegmentBuilder"] is True
        assert doc["status"]["today"]["costUsd"] == 0 and doc["status"]["offline"] is False
        for key in (
            "preferredModel",
            "fallbackModel",
            "maxDailyLLMCalls",
            "maxMonthlyCost",
            "brandVoice",
            "avoidWords",
            "requireApproval",
            "allowLLMPersonalization",
            "piiExclusions",
            "onCritical",
        ):
            assert key in doc

        r = await http.patch(
            "/api/v1/admin/ai/config",
            headers=a,
            json={
                "qualityTier": "STANDARD",
                "brandVoice": "Warm and welcoming",
                "avoidWords": ["free"],
                "features": {"contentGeneration": False},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["maxMonthlyCost"] == 100 and r.json()["features"]["contentGeneration"] is False
        assert "qualityTier" in r.json()["changedFields"]

        # bad input: 4xx naming the field, never a 500
        r = await http.patch("/api/v1/admin/ai/config", headers=a, json={"maxDailyLLMCalls": -1})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.maxDailyLLMCalls"
        r = await http.patch("/api/v1/admin/ai/config", headers=a, json={"gpt": True})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.gpt"
        r = await http.patch("/api/v1/admin/ai/config", headers=a, json={"dailyCostWarning": 50})
        assert r.status_code == 422 and "dailyCostWarning" in r.text
        r = await http.patch("/api/v1/admin/ai/config", headers=a, json={"timezone": "Nowhere/Land"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.timezone"
        r = await http.patch(
            "/api/v1/admin/ai/config",
            headers=auth_headers("club-a", ["marketer"]),
            json={"maxDailyLLMCalls": 5},
        )
        assert r.status_code == 403

        # the test endpoint runs an operation with the same governance and sends nothing onward
        r = await http.post(
            "/api/v1/admin/ai/test",
            headers=a,
            json={"operation": "segment.parse", "input": {"query": "Inactive premium members"}},
        )
        assert r.status_code == 200, r.text
        result = r.json()["result"]
        assert result["source"] == "LLM" and r.json()["sentOnward"] is False
        decision = result["decisionId"]
        r = await http.post(
            "/api/v1/admin/ai/test",
            headers=a,
            json={"operation": "content.generate", "input": {"type": "SMS", "campaignGoal": "Book now"}},
        )
        assert r.json()["result"]["fallbackReason"] == "FEATURE_DISABLED"  # the PATCH above switched it off
        r = await http.post("/api/v1/admin/ai/test", headers=a, json={"operation": "nope", "input": {}})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.operation"
        r = await http.post(
            "/api/v1/admin/ai/test",
            headers=a,
            json={"operation": "segment.parse", "input": {"query": "x" * 2000}},
        )
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.input.query"

        # explain: the tenant's own decisions only
        r = await http.get(f"/api/v1/ai/explain/{decision}", headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 200
        ex = r.json()
        assert ex["source"] == "LLM" and "written by the AI model" in ex["explanation"]
        assert ex["wasUsed"] is False and ex["origin"] == "admin-test" and ex["howToOptOut"]
        assert (await http.get(f"/api/v1/ai/explain/{decision}", headers=b)).status_code == 404

        # usage and quality: club-a's figures, none of them club-b's
        r = await http.get("/api/v1/admin/ai/usage?range=7d", headers=a)
        usage = r.json()
        assert r.status_code == 200 and usage["totals"]["requests"] == 2 and usage["totals"]["llm"] == 1
        assert usage["totals"]["costUsd"] > 0 and usage["byDay"] and usage["budget"]["today"]["llmCalls"] == 1
        assert (await http.get("/api/v1/admin/ai/usage?range=90d", headers=b)).json()["totals"][
            "requests"
        ] == 0
        r = await http.get("/api/v1/admin/ai/usage?range=1y", headers=a)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.range"
        q = (await http.get("/api/v1/admin/ai/quality", headers=a)).json()
        assert q["systemMetrics"]["totalRequests"] == 2 and q["systemMetrics"]["fallbackRate"] == 0.5
        assert (
            q["fallbackReasons"] == {"FEATURE_DISABLED": 1} and q["segmentMetrics"]["parseSuccessRate"] == 1.0
        )
        qb = (await http.get("/api/v1/admin/ai/quality", headers=b)).json()
        assert qb["systemMetrics"]["totalRequests"] == 0

        # club-b's config is its own
        doc_b = (await http.get("/api/v1/admin/ai/config", headers=b)).json()
        assert doc_b["qualityTier"] == "ECONOMY" and doc_b["brandVoice"] is None
        assert doc_b["features"]["contentGeneration"] is True

        # config changes were published on crm.ai, keyed by tenant
        consumer = AIOKafkaConsumer(
            topics("crm.ai"),
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            seen: list[tuple[str, str]] = []
            deadline = asyncio.get_running_loop().time() + 20
            while (
                asyncio.get_running_loop().time() < deadline
                and ("crm.ai.config.updated", "club-a") not in seen
            ):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for rec in records:
                        body = json.loads(rec.value)
                        seen.append((body["event_type"], body["tenant_id"]))
                        assert rec.key == body["tenant_id"].encode()
            assert ("crm.ai.config.updated", "club-a") in seen
            assert ("crm.ai.feature.toggled", "club-a") in seen
            assert all(t == "club-a" for _, t in seen)
        finally:
            await consumer.stop()


def test_provider_settings_come_from_the_platform_names(monkeypatch):
    from fairway_testkit import TEST_JWT_SECRET

    monkeypatch.setenv("FAIRWAY_AI_ANTHROPIC_API_KEY", "sk-from-env")
    monkeypatch.setenv("FAIRWAY_AI_ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    s = Settings(jwt_secret=TEST_JWT_SECRET)
    assert (s.anthropic_api_key, s.anthropic_base_url, s.offline) == (
        "sk-from-env",
        "http://127.0.0.1:9",
        False,
    )
    monkeypatch.setenv("FAIRWAY_AI_ANTHROPIC_API_KEY", " ")
    assert Settings(jwt_secret=TEST_JWT_SECRET).offline
