"""Fixtures of the social tests: the fake platforms as a real HTTP server on a free port, and the social service
started as its process starts (migrations, broker, relay, procrastinate worker) against the test's own database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from fairway_social.app import create_app
from fairway_social.crypto import TokenCipher
from fairway_social.fakes.server import FakePlatformsServer
from fairway_social.settings import Settings
from fairway_testkit.helpers import RunningService, run_service

sys.path.insert(0, str(Path(__file__).parent))  # social_testing: the tests' shared helpers


@pytest.fixture
async def fakes() -> AsyncIterator[FakePlatformsServer]:
    async with FakePlatformsServer() as server:
        yield server


@pytest.fixture
def social_settings(settings_for: Callable[..., Any], fakes: FakePlatformsServer) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "token_keys": [TokenCipher.generate_key("k1")],
            "state_secret": "state-" + "s" * 40,
            "facebook_auth_url": fakes.url, "facebook_graph_url": fakes.url,
            "x_auth_url": fakes.url, "x_api_url": fakes.url,
            "platform_timeout_seconds": 2.0,
            "unconfirmed_check_seconds": 0.5, "unconfirmed_settle_seconds": 3.0,
            "jobs_poll_seconds": 0.2, "jobs_heartbeat_seconds": 0.5, "jobs_stalled_seconds": 2.0,
            "instagram_poll_seconds": 0.05,
        }
        values.update(overrides)
        return settings_for(Settings, **values)

    return make


@pytest.fixture
async def social(social_settings: Callable[..., Settings]) -> AsyncIterator[RunningService]:
    async with run_service(create_app(social_settings())) as svc:
        yield svc
