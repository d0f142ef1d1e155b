"""Dispatch under test against real PostgreSQL, its schema built by the service's own migrations."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).parent))

from dispatch_helpers import Dispatch  # noqa: E402

from fairway_campaigns.app import MIGRATIONS  # noqa: E402
from fairway_campaigns.dispatch.service import DispatchService  # noqa: E402
from fairway_campaigns.settings import Settings  # noqa: E402
from fairway_chassis import ManualClock  # noqa: E402
from fairway_chassis.db import ensure_database, make_sessionmaker, migrate  # noqa: E402


@pytest.fixture
async def dispatch(settings_for: Callable[..., Settings]) -> AsyncIterator[Dispatch]:
    s = settings_for(Settings)
    await ensure_database(s.service_database_url)
    await migrate(MIGRATIONS, s.service_database_url)
    engine = create_async_engine(s.service_database_url)
    try:
        yield Dispatch(make_sessionmaker(engine), DispatchService(), ManualClock(datetime.fromisoformat(
            "2026-06-02T09:00:00+00:00")))
    finally:
        await engine.dispose()
