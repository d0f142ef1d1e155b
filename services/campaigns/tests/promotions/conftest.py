"""The service under test runs on a ManualClock set to a recent past instant: its jobs due then run on their own;
later steps are run by the test after moving the clock, as the worker would run them at their time.

The clock starts at the last 10:00 in the club's default zone (dispatch's default best hour), so an announcement
goes at once whatever the hour CI runs at; from a wall-clock start it was held for the next morning at night."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from camp_helpers import fast_jobs  # noqa: E402
from promo_helpers import Promotions  # noqa: E402

from fairway_campaigns.app import create_app  # noqa: E402
from fairway_campaigns.dispatch.policy import DEFAULT_SEND_HOUR, DispatchSettings  # noqa: E402
from fairway_campaigns.settings import Settings  # noqa: E402
from fairway_chassis import ManualClock  # noqa: E402
from fairway_testkit import run_service  # noqa: E402


def last_send_hour() -> datetime:
    zone = ZoneInfo(DispatchSettings().defaultTimeZone)
    now = datetime.now(zone)
    at = now.replace(hour=DEFAULT_SEND_HOUR, minute=0, second=0, microsecond=0)
    return (at if at <= now else at - timedelta(days=1)).astimezone(UTC)


@pytest.fixture
async def promos(settings_for: Callable[..., Settings], producer: Any, created_topics: Any
                 ) -> AsyncIterator[Promotions]:
    clock = ManualClock(last_send_hour())
    async with run_service(create_app(fast_jobs(settings_for), clock=clock)) as running:
        yield Promotions(running, clock, producer, created_topics)
