"""Factories and a client of the campaign API for the campaigns tests."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from fairway_campaigns.settings import Settings
from fairway_events import registry
from fairway_events.contracts.identity import (
    Attributes,
    Consent,
    Identities,
    ProfileCreated,
    ProfileSnapshot,
    ProfileUpdated,
)
from fairway_events.contracts.scoring import SendTimeProfileUpdated
from fairway_events.contracts.segmentation import SegmentMemberEntered
from fairway_testkit import RunningService, auth_headers, send_upstream, wait_for

TENANT = "stonehaven"
KILL_BATCH = 20  # recipients per transaction in the kill tests: many commits, so the kill lands mid-work
OTHER = "fairwaygolf"
MARKETER = ("marketer",)


def campaign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "December newsletter",
        "goal": "Fill the midweek tee sheet",
        "channels": ["EMAIL"],
        "targetSegmentId": "seg-active-members",
        "content": {"EMAIL": {"subject": "Winter golf at Stonehaven", "body": "Midweek rounds are 20% off."}},
        "schedule": {"kind": "AT", "at": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
    }
    body.update(overrides)
    return body


def fast_jobs(settings_for: Callable[..., Settings], **overrides: Any) -> Settings:
    return settings_for(Settings, jobs_heartbeat_seconds=0.3, jobs_stalled_seconds=1.5, jobs_poll_seconds=0.2,
                        jobs_shutdown_seconds=1, **overrides)


class Api:
    """The campaign API as a marketer of one tenant calls it."""

    def __init__(self, svc: RunningService | httpx.AsyncClient, tenant: str = TENANT,
                 roles: tuple[str, ...] = MARKETER) -> None:
        self.http: httpx.AsyncClient = svc.http if isinstance(svc, RunningService) else svc
        self.headers = auth_headers(tenant, roles)

    async def create(self, **overrides: Any) -> dict[str, Any]:
        r = await self.http.post("/api/v1/campaigns", json=campaign_body(**overrides), headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()

    async def action(self, campaign_id: str, action: str, expect: int = 200) -> dict[str, Any]:
        r = await self.http.post(f"/api/v1/campaigns/{campaign_id}/{action}", headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    async def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        r = await self.http.get(f"/api/v1/campaigns{path}", headers=self.headers, params=params)
        assert r.status_code == expect, r.text
        return r.json()


# -- the club around the service: identity, segmentation and Messaging, as they publish ----------------------------
SEGMENT = "seg-active-members"
NO_RULES = {"quietHours": {}, "caps": {}, "controlGroupShare": 0}


def member(i: int) -> str:
    return f"p{i:05d}"


def email_of(profile_id: str) -> str:
    return f"{profile_id}@stonehavengolf.co.uk"


def phone_of(profile_id: str) -> str:
    return "+4477009" + "".join(ch for ch in profile_id if ch.isdigit())[-5:].rjust(5, "0")


class Club:
    """Plays identity, segmentation and Messaging on the real broker for one test's topics."""

    def __init__(self, producer: Any, topics: Any, tenant: str = TENANT) -> None:
        self.producer = producer
        self.topics = topics
        self.tenant = tenant

    async def _send(self, topic: str, payload: Any, key: str, source: str) -> None:
        env = registry.envelope(payload, tenant_id=self.tenant, aggregate_id=key, source=source)
        await self.producer.send(self.topics(topic), env.to_wire(), key=key.encode())

    async def members(self, ids: list[str], segment: str = SEGMENT, *, email_opt_in: bool = True,
                      sms_opt_in: bool = False) -> None:
        """Profiles (with an email address, a phone number and the opt-ins) that are members of `segment`."""
        now = datetime.now(UTC)
        for pid in ids:
            await self._send("crm.identity", ProfileCreated(profile=ProfileSnapshot(
                profileId=pid, status="ACTIVE", identities=Identities(email=[email_of(pid)], phoneNumber=[phone_of(pid)]),
                attributes=Attributes(firstName="Ailsa"), consent=Consent(emailOptIn=email_opt_in,
                                                                          smsOptIn=sms_opt_in))), pid, "identity")
        for pid in ids:
            await self._send("crm.segmentation", SegmentMemberEntered(
                segmentId=segment, segmentName="Active members", profileId=pid, at=now), segment, "segmentation")
        await self.producer.flush()

    async def time_zone(self, profile_id: str, zone: str) -> None:
        await self._send("crm.identity", ProfileUpdated(profileId=profile_id, changes={"timeZone": zone}),
                         profile_id, "identity")
        await self.producer.flush()

    async def send_time(self, profile_id: str, best_hour: int, zone: str, confidence: float) -> None:
        """ml-scoring's send-time profile: half of the person's opens at `best_hour` (local to `zone`)."""
        hourly = [0.5 if h == best_hour else 0.5 / 23 for h in range(24)]
        await self._send("crm.scoring", SendTimeProfileUpdated(
            profileId=profile_id, hourlyOpenProbability=hourly, timezone=zone, confidence=confidence,
            sampleSize=int(confidence * 40), updatedAt=datetime.now(UTC)), profile_id, "ml-scoring")
        await self.producer.flush()

    async def messaging(self, event_type: str, profile_id: str, payload: dict[str, Any]) -> None:
        await send_upstream(self.producer, self.topics, event_type, self.tenant, {"email": email_of(profile_id)},
                            payload)


async def no_dispatch_rules(api: Api, tenant: str = TENANT, **overrides: Any) -> None:
    r = await api.http.put("/api/v1/dispatch/settings", json={**NO_RULES, **overrides},
                           headers=auth_headers(tenant, ("admin",)))
    assert r.status_code == 200, r.text


async def audience_of(api: Api, campaign_id: str, n: int) -> dict[str, Any]:
    """Wait until the campaign's audience (dispatch's read models) holds `n` people."""
    async def check() -> dict[str, Any] | None:
        a = await api.get(f"/{campaign_id}/audience")
        return a if a["count"] == n else None

    return await wait_for(check, timeout=90, what=f"an audience of {n}")


async def state_of(api: Api, campaign_id: str, *states: str, timeout: float = 90) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        c = await api.get(f"/{campaign_id}")
        return c if c["state"] in states else None

    return await wait_for(check, timeout=timeout, what=f"campaign in {states}")


async def send_requests(bootstrap: str, topic: str, campaign_id: str, expect: int, timeout: float = 90
                        ) -> list[dict[str, Any]]:
    """Every messaging.send.requested of the campaign on the topic (duplicates included), read from the start until
    `expect` distinct request ids are there (or the timeout)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or
                                                     await _partitions(consumer, topic))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        found: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for rec in records:
                    payload = orjson.loads(rec.value)["payload"]
                    if payload.get("campaignId") == campaign_id:
                        found.append(payload)
            if len({p["requestId"] for p in found}) >= expect and not batch:
                break
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 (a consumer that subscribed to nothing)
    return consumer.partitions_for_topic(topic) or set()


class ServiceProcess:
    """`python -m fairway_campaigns` with this test's database and topics."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "fairway_campaigns"], env=self.env,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    async def start(self) -> None:
        self.spawn()
        url = f"http://127.0.0.1:{self.env['FAIRWAY_CAMPAIGNS_PORT']}/readyz"

        async def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited; see {self.log}")
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(url, timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(ready, timeout=180, interval=0.3, what="the service to be ready")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
