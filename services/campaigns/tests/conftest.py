"""The campaigns service under test: started in-process as its process would (migrations, broker, relay, job
worker). Every test gets its own database and topic prefix from fairway_testkit."""
from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from camp_helpers import KILL_BATCH, ServiceProcess, fast_jobs  # noqa: E402

from fairway_campaigns.app import create_app  # noqa: E402
from fairway_campaigns.settings import Settings  # noqa: E402
from fairway_events import TopicNames  # noqa: E402
from fairway_localinfra import free_port  # noqa: E402
from fairway_testkit import RunningService, run_service  # noqa: E402
from fairway_testkit.helpers import TEST_JWT_SECRET  # noqa: E402


@pytest.fixture
async def svc(settings_for: Callable[..., Settings]) -> AsyncIterator[RunningService]:
    async with run_service(create_app(fast_jobs(settings_for))) as running:
        yield running


@pytest.fixture
async def service(pg_server_url: str, kafka_bootstrap: str, topic_prefix: str, database_name: str,
                  created_topics: TopicNames, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    """`python -m fairway_campaigns` as a subprocess with this test's database and topics, for the kill tests."""
    env = {
        **os.environ,
        "FAIRWAY_CAMPAIGNS_DATABASE_URL": pg_server_url, "FAIRWAY_CAMPAIGNS_DATABASE_NAME": database_name,
        "FAIRWAY_CAMPAIGNS_KAFKA_BOOTSTRAP": kafka_bootstrap, "FAIRWAY_CAMPAIGNS_TOPIC_PREFIX": topic_prefix,
        "FAIRWAY_CAMPAIGNS_JWT_SECRET": TEST_JWT_SECRET, "FAIRWAY_CAMPAIGNS_PORT": str(free_port()),
        "FAIRWAY_CAMPAIGNS_FANOUT_BATCH_SIZE": str(KILL_BATCH), "FAIRWAY_CAMPAIGNS_KAFKA_SESSION_TIMEOUT_MS": "3000",
        "FAIRWAY_CAMPAIGNS_JOBS_HEARTBEAT_SECONDS": "0.3", "FAIRWAY_CAMPAIGNS_JOBS_STALLED_SECONDS": "1.5",
        "FAIRWAY_CAMPAIGNS_JOBS_POLL_SECONDS": "0.2", "FAIRWAY_CAMPAIGNS_LOG_LEVEL": "WARNING",
    }
    svc = ServiceProcess(env, tmp_path / "campaigns.log")
    await svc.start()
    try:
        yield svc
    finally:
        svc.stop()
