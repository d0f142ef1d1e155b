"""The service under test runs on a ManualClock set to now: its jobs due now run on their own; later steps are run
by the test after moving the clock, as the worker would run them at their time."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from camp_helpers import fast_jobs  # noqa: E402
from promo_helpers import Promotions  # noqa: E402

from fairway_campaigns.app import create_app  # noqa: E402
from fairway_campaigns.settings import Settings  # noqa: E402
from fairway_chassis import ManualClock  # noqa: E402
from fairway_testkit import run_service  # noqa: E402


@pytest.fixture
async def promos(settings_for: Callable[..., Settings], producer: Any, created_topics: Any
                 ) -> AsyncIterator[Promotions]:
    clock = ManualClock(datetime.now(UTC))
    async with run_service(create_app(fast_jobs(settings_for), clock=clock)) as running:
        yield Promotions(running, clock, producer, created_topics)
