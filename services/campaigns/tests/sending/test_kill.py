"""The fan-out survives a real process kill: SIGKILL the service (a subprocess, as it runs in production) in the
middle of a campaign's fan-out, start it again, and every recipient is requested exactly once."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from camp_helpers import Api, Club, audience_of, member, no_dispatch_rules, send_requests, state_of

from fairway_events import TopicNames
from fairway_localinfra import free_port
from fairway_testkit import wait_for
from fairway_testkit.helpers import TEST_JWT_SECRET

AUDIENCE = 1500
BATCH = 20


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


@pytest.fixture
async def service(pg_server_url: str, kafka_bootstrap: str, topic_prefix: str, database_name: str,
                  created_topics: TopicNames, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    env = {
        **os.environ,
        "FAIRWAY_CAMPAIGNS_DATABASE_URL": pg_server_url, "FAIRWAY_CAMPAIGNS_DATABASE_NAME": database_name,
        "FAIRWAY_CAMPAIGNS_KAFKA_BOOTSTRAP": kafka_bootstrap, "FAIRWAY_CAMPAIGNS_TOPIC_PREFIX": topic_prefix,
        "FAIRWAY_CAMPAIGNS_JWT_SECRET": TEST_JWT_SECRET, "FAIRWAY_CAMPAIGNS_PORT": str(free_port()),
        "FAIRWAY_CAMPAIGNS_FANOUT_BATCH_SIZE": str(BATCH), "FAIRWAY_CAMPAIGNS_KAFKA_SESSION_TIMEOUT_MS": "3000",
        "FAIRWAY_CAMPAIGNS_JOBS_HEARTBEAT_SECONDS": "0.3", "FAIRWAY_CAMPAIGNS_JOBS_STALLED_SECONDS": "1.5",
        "FAIRWAY_CAMPAIGNS_JOBS_POLL_SECONDS": "0.2", "FAIRWAY_CAMPAIGNS_LOG_LEVEL": "WARNING",
    }
    svc = ServiceProcess(env, tmp_path / "campaigns.log")
    await svc.start()
    try:
        yield svc
    finally:
        svc.stop()


async def test_kill_mid_fanout_then_restart_requests_everyone_exactly_once(
    service: ServiceProcess, pg_server_url: str, database_name: str, kafka_bootstrap: str, producer: object,
    created_topics: TopicNames,
) -> None:
    club = Club(producer, created_topics)
    people = [member(i) for i in range(AUDIENCE)]
    await club.members(people)
    base = f"http://127.0.0.1:{service.env['FAIRWAY_CAMPAIGNS_PORT']}"
    db = await asyncpg.connect(f"{pg_server_url.rsplit('/', 1)[0]}/{database_name}".replace("+asyncpg", ""))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            api = Api(http)
            await no_dispatch_rules(api)
            c = await api.create(schedule={"kind": "NOW"})
            await audience_of(api, c["id"], AUDIENCE)
            await api.action(c["id"], "schedule")

            async def mid_fanout() -> int:
                cursor = await db.fetchval("SELECT cursor FROM campaigns WHERE id = $1", c["id"])
                return cursor if cursor and cursor >= 3 * BATCH else 0

            killed_at = await wait_for(mid_fanout, timeout=120, interval=0.01, what="the fan-out to be under way")
            service.kill()
            at_kill = await db.fetchval("SELECT cursor FROM campaigns WHERE id = $1", c["id"])
            assert at_kill < AUDIENCE, "the fan-out finished before the kill: make the audience larger"
            assert killed_at <= at_kill
            await service.start()
            done = await state_of(api, c["id"], "COMPLETED", timeout=180)
            assert done["submitted"] == AUDIENCE
    finally:
        ledger = await db.fetch(
            "SELECT profile_id, count(*) AS n FROM dispatch_ledger WHERE source_id = $1 GROUP BY profile_id", c["id"])
        messages = await db.fetchval("SELECT count(*) FROM campaign_messages WHERE campaign_id = $1", c["id"])
        await db.close()
    assert len(ledger) == AUDIENCE and all(r["n"] == 1 for r in ledger)
    assert messages == AUDIENCE
    published = await send_requests(kafka_bootstrap, created_topics("crm.messaging.send_requests"), c["id"], AUDIENCE)
    by_request = {p["requestId"]: p["recipient"]["profileId"] for p in published}
    # Every recipient has exactly one request id; the relay may repeat a row killed between send and mark, but
    # always with the same request id, which Messaging de-duplicates.
    per_profile = Counter(by_request.values())
    assert set(per_profile) == set(people) and set(per_profile.values()) == {1}
    print(f"killed at {at_kill}/{AUDIENCE}; {len(published)} messages for {len(by_request)} request ids")
    await asyncio.sleep(0)
