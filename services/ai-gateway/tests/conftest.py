"""Fixtures of the ai-gateway tests: a recording fake provider on a local port, and gateways on a migrated
database of the test's own (the real PostgreSQL of the testkit)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from fairway_ai_gateway.app import MIGRATIONS
from fairway_ai_gateway.config.schemas import TenantAIConfigPatch
from fairway_ai_gateway.fake_provider.server import FakeProviderServer
from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_ai_gateway.settings import Settings
from fairway_chassis.db import ensure_database, make_engine, make_sessionmaker, migrate

sys.path.insert(0, str(Path(__file__).parent))  # the tests' shared data (aigw_spec_examples)


@pytest.fixture
async def fake_provider() -> AsyncIterator[FakeProviderServer]:
    async with FakeProviderServer() as fp:
        yield fp


@pytest.fixture
def gw_settings(
    settings_for: Callable[..., Any], fake_provider: FakeProviderServer
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "anthropic_api_key": "test-key",
            "anthropic_base_url": fake_provider.url,
            "breaker_open_seconds": 0.3,
            "provider_backoff_seconds": 0.01,
            "sweep_interval_seconds": 3600,
            "config_cache_seconds": 0,
        }
        values.update(overrides)
        return settings_for(Settings, **values)

    return make


@pytest.fixture
async def make_gateway(
    gw_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    made: list[tuple[Gateway, Any]] = []

    async def make(**overrides: Any) -> Gateway:
        s = gw_settings(**overrides)
        url = s.service_database_url
        await ensure_database(url)
        await migrate(MIGRATIONS, url)
        engine = make_engine(url, 10)  # the test server is shared: keep well under its connection limit
        gw = Gateway(s)
        gw.bind(make_sessionmaker(engine))
        made.append((gw, engine))
        return gw

    yield make
    for gw, engine in made:
        await gw.close()
        await engine.dispose()


async def _configure(gw: Gateway, tenant: str, **fields: Any) -> None:
    assert gw.sessionmaker is not None
    async with gw.sessionmaker() as session, session.begin():
        await gw.configs.update(session, tenant, TenantAIConfigPatch.model_validate(fields), "tests")


async def _sql(gw: Gateway, statement: str, **params: Any) -> list[Any]:
    assert gw.sessionmaker is not None
    await gw.flush()  # records of answered requests are written just after the answer
    async with gw.sessionmaker() as session:
        return list((await session.execute(text(statement), params)).all())


@pytest.fixture
def configure() -> Callable[..., Awaitable[None]]:
    """configure(gw, tenant, **fields): change a tenant's AI config as an admin would (the PATCH's code)."""
    return _configure


@pytest.fixture
def sql() -> Callable[..., Awaitable[list[Any]]]:
    """sql(gw, statement, **params): read the gateway's database (once its pending records are written)."""
    return _sql
