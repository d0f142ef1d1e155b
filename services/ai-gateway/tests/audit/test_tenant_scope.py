"""Repositories built for one tenant cannot read or change another tenant's decision log, budget or config, even
when handed their ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fairway_ai_gateway.app import MIGRATIONS
from fairway_ai_gateway.audit.repository import AuditRepository
from fairway_ai_gateway.budget.repository import BudgetRepository, Caps
from fairway_ai_gateway.config.repository import ConfigRepository
from fairway_ai_gateway.db import decision_log, reservation
from fairway_ai_gateway.gateway.cache import CacheRepository
from fairway_chassis.db import migrate

T = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
FAIRWAY, STONEHAVEN = "fairwaygolf", "stonehaven"
CAPS = Caps(day_cost=10_000_000, month_cost=100_000_000, day_calls=1000, hour_calls=100, disable_at=None)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await migrate(MIGRATIONS, database_url)
    engine = create_async_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def test_a_tenants_repositories_neither_read_nor_change_another_tenants_rows(session: AsyncSession) -> None:
    await AuditRepository.for_tenant(session, STONEHAVEN).add(
        {
            "id": "d1", "operation": "segment.parse", "decision_type": "SEGMENT", "source": "LLM",
            "input_summary": {}, "output_summary": {}, "attempts": [], "latency_ms": 120, "was_used": True,
            "origin": "api", "created_at": T,
        }
    )
    their_budget = BudgetRepository.for_tenant(session, STONEHAVEN)
    await their_budget.ensure()
    day, hour, month = "2026-11-21", "2026-11-21T07", "2026-11"
    assert await their_budget.reserve(
        reservation_id="r1", decision_id="d2", operation="segment.parse", amount=5000, day=day, hour=hour,
        month=month, caps=CAPS, expires_at=T + timedelta(minutes=5),
    ) is not None
    await ConfigRepository.for_tenant(session, STONEHAVEN).put({"timezone": "Europe/London"}, "admin")
    await CacheRepository.for_tenant(session, STONEHAVEN).put(
        key="k1", operation="content.generate", model="claude", output={"variants": []}, expires_at=T + timedelta(1)
    )

    audit = AuditRepository.for_tenant(session, FAIRWAY)
    budget = BudgetRepository.for_tenant(session, FAIRWAY)
    config = ConfigRepository.for_tenant(session, FAIRWAY)
    assert await audit.get("d1") is None
    assert await audit.by_day(T - timedelta(days=1), "UTC") == []
    assert [r for r in await audit.by_operation(T - timedelta(days=1)) if r["requests"]] == []
    assert await budget.outstanding() == 0
    assert await budget.settle(reservation_id="r1", actual=0) is None  # their reservation stays theirs
    assert await config.get() is None and await config.get_for_update() is None
    assert await CacheRepository.for_tenant(session, FAIRWAY).get("k1", T) is None
    # A row written through our repository is ours, whatever tenant it names.
    await audit.add({**(await AuditRepository.for_tenant(session, STONEHAVEN).get("d1") or {}), "id": "d3",
                     "tenant_id": STONEHAVEN})

    assert (await AuditRepository.for_tenant(session, STONEHAVEN).get("d1")) is not None
    assert await AuditRepository.for_tenant(session, STONEHAVEN).get("d3") is None
    assert await their_budget.outstanding() == 1
    assert await CacheRepository.for_tenant(session, STONEHAVEN).get("k1", T) == ("claude", {"variants": []})
    assert (await ConfigRepository.for_tenant(session, STONEHAVEN).get()) == {"timezone": "Europe/London"}
    assert (await session.execute(select(func.count()).select_from(reservation))).scalar() == 1
    assert (await session.execute(select(func.count()).select_from(decision_log))).scalar() == 2
