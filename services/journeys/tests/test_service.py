"""The running service through the real broker: a trigger event in, sends and identity commands out, a timer fired
by the procrastinate worker, and dispatch's outcome back in."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from harness import fairway_event, member
from sqlalchemy import text

from fairway_events import Envelope, TopicNames, registry
from fairway_events.contracts.dispatch import DispatchOutcomeRecorded, DispatchSource
from fairway_journeys.app import create_app
from fairway_testkit.helpers import auth_headers, run_service, wait_for

T = "stonehaven"
HEADERS = auth_headers(T, roles=("marketer",))
QUICK = {
    "trigger": {"type": "event", "eventType": "profile.created"},
    "steps": [
        {"id": "hello", "type": "SEND", "channel": "EMAIL", "templateId": "welcome-new-member", "next": "pause"},
        {"id": "pause", "type": "WAIT", "kind": "duration", "duration": "2 seconds", "next": "tag"},
        {"id": "tag", "type": "UPDATE", "addTags": ["welcomed"], "next": "end"},
        {"id": "end", "type": "END"},
    ],
}


async def publish(producer: AIOKafkaProducer, topics: TopicNames, env: Envelope) -> None:
    topic = registry.spec_for(type(env.payload)).topic
    await producer.send_and_wait(topics(topic), env.to_wire(), key=env.aggregate_id.encode())


async def test_trigger_timer_and_outcome_through_the_broker(
        journeys_settings: Callable[..., Any], producer: AIOKafkaProducer, topics: TopicNames) -> None:
    async with run_service(create_app(journeys_settings())) as svc:
        r = await svc.http.post("/api/v1/journeys", headers=HEADERS, json={"name": "Quick welcome", "definition": QUICK})
        jid = r.json()["id"]
        await svc.http.post(f"/api/v1/journeys/{jid}/activate", headers=HEADERS)
        await publish(producer, topics, fairway_event(member("p-hamish", "hamish.bell@stonehavengolf.co.uk"), T,
                                                      "p-hamish"))

        async def status() -> Any:
            r = await svc.http.get("/api/v1/customers/p-hamish/journeys", headers=HEADERS)
            if r.status_code == 404:  # the member's event has not reached journeys yet
                return None
            page = r.json()
            return page["items"][0] if page["items"] and page["items"][0]["status"] == "COMPLETED" else None

        run = await wait_for(status, timeout=60, what="the run to complete after its timer")
        assert run["why"].startswith("completed at step 'end'")

        async def published() -> Any:
            async with svc.runtime.sessionmaker() as s:
                rows = (await s.execute(text(
                    "SELECT event_type FROM event_outbox WHERE published_at IS NOT NULL AND event_type IN "
                    "('dispatch.requested', 'profile.update_requested')"))).scalars().all()
            return sorted(rows) if len(rows) == 2 else None

        assert await wait_for(published, what="sends and identity commands relayed") == [
            "dispatch.requested", "profile.update_requested"]
        async with svc.runtime.sessionmaker() as s:
            request_id = (await s.execute(text("SELECT request_id FROM sends"))).scalar_one()
        await publish(producer, topics, fairway_event(DispatchOutcomeRecorded(
            requestId=request_id, profileId="p-hamish", channel="EMAIL", outcome="CAPPED", reason="3 emails this week",
            source=DispatchSource(kind="JOURNEY", id=jid), at=run["startedAt"]), T, "p-hamish"))

        async def outcome() -> Any:
            async with svc.runtime.sessionmaker() as s:
                return (await s.execute(text("SELECT outcome FROM sends"))).scalar_one()

        assert await wait_for(outcome, what="dispatch's outcome recorded") == "CAPPED"
        runs = (await svc.http.get(f"/api/v1/journeys/{jid}/runs?status=COMPLETED", headers=HEADERS)).json()
        assert [i["profileId"] for i in runs["items"]] == ["p-hamish"]
        assert (await svc.http.get(f"/api/v1/journeys/{jid}/runs?status=ACTIVE", headers=HEADERS)).json()["items"] == []
