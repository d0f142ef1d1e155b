"""Fixtures of the journeys tests. Every test gets its own database and topic prefix from fairway_testkit."""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).parent))

from fairway_chassis.db import migrate  # noqa: E402
from fairway_journeys.app import MIGRATIONS  # noqa: E402
from fairway_journeys.settings import Settings  # noqa: E402


@pytest.fixture
def journeys_settings(settings_for: Callable[..., Any]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return settings_for(Settings, **{"db_pool_size": 4, **overrides})

    return make


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The service's schema, built by its own migrations, without running the service."""
    await migrate(MIGRATIONS, database_url)
    eng = create_async_engine(database_url, pool_size=2)
    yield eng
    await eng.dispose()


@pytest.fixture
async def harness(engine: AsyncEngine, journeys_settings: Callable[..., Settings]) -> Any:
    from datetime import UTC, datetime

    from harness import Harness

    return Harness(engine, journeys_settings(), datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
