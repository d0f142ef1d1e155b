"""Fixtures of the segmentation tests. Every test gets its own database and topic prefix from fairway_testkit."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).parent))

from seg_helpers import Events  # noqa: E402

from fairway_chassis.db import migrate  # noqa: E402
from fairway_events import TopicNames  # noqa: E402
from fairway_segmentation.app import MIGRATIONS  # noqa: E402
from fairway_segmentation.settings import Settings  # noqa: E402


@pytest.fixture
def seg_settings(settings_for: Callable[..., Any]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "maintenance_interval_seconds": 0.2,
            "time_recheck_seconds": 1.0,
            "db_pool_size": 4,
            "ai_timeout_seconds": 10.0,
        }
        values.update(overrides)
        return settings_for(Settings, **values)

    return make


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The service's schema, built by its own migrations, without running the service."""
    await migrate(MIGRATIONS, database_url)
    eng = create_async_engine(database_url, pool_size=2)
    yield eng
    await eng.dispose()


@pytest.fixture
def events(producer: AIOKafkaProducer, topics: TopicNames) -> Events:
    return Events(producer, topics)
