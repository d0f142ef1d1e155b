from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fairway_events import event_tables
from fairway_events.state_readers import state_versions_table

metadata = MetaData()
outbox_table, inbox_table = event_tables(metadata)
state_versions = state_versions_table(metadata)
# A stand-in for a service's state: handlers in these tests count what they did here.
effects = Table("effects", metadata, Column("event_id", String, primary_key=True), Column("n", Integer))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(database_url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()
