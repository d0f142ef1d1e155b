"""The campaigns service under test: started in-process as its process would (migrations, broker, relay, job
worker). Every test gets its own database and topic prefix from fairway_testkit."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from camp_helpers import fast_jobs  # noqa: E402

from fairway_campaigns.app import create_app  # noqa: E402
from fairway_campaigns.settings import Settings  # noqa: E402
from fairway_testkit import RunningService, run_service  # noqa: E402


@pytest.fixture
async def svc(settings_for: Callable[..., Settings]) -> AsyncIterator[RunningService]:
    async with run_service(create_app(fast_jobs(settings_for))) as running:
        yield running
