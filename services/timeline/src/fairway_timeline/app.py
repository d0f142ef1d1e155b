"""Wiring only: which routers, consumers and background loops make up the timeline service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from fairway_chassis import (
    Clock,
    ConsumerSpec,
    Runtime,
    ServiceDefinition,
    SystemClock,
    create_service,
    periodic,
    serve,
    state_consumer,
)
from fairway_events.state_readers import StateReader
from fairway_timeline.activities.endpoints import router as timeline_router
from fairway_timeline.counters.announce import COUNTERS_STATE
from fairway_timeline.counters.endpoints import router as counters_router
from fairway_timeline.counters.service import sweep_once
from fairway_timeline.ingest.handler import HANDLED, TOPICS, TimelineIngest
from fairway_timeline.ingest.identity import LIVE_STATE, STATE_TOPICS
from fairway_timeline.notes.endpoints import router as notes_router
from fairway_timeline.settings import Settings
from fairway_timeline.state import TimelineState

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()

    state = TimelineState(clock=clock)
    ingest = TimelineIngest(settings, clock)

    async def open_read_pool(runtime: Runtime[TimelineState]) -> None:
        engine = create_async_engine(
            settings.service_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",
        )
        runtime.state.read_engine = engine
        runtime.state.read_sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def close_read_pool(runtime: Runtime[TimelineState]) -> None:
        if runtime.state.read_engine is not None:
            await runtime.state.read_engine.dispose()

    async def sweep(runtime: Runtime[TimelineState]) -> None:
        assert runtime.sessionmaker is not None
        await sweep_once(
            runtime.sessionmaker,
            clock,
            pending_ttl=timedelta(hours=settings.pending_ttl_hours),
            erased_key_retention=timedelta(days=settings.erased_key_retention_days),
        )

    return create_service(
        ServiceDefinition(
            name="timeline",
            settings=settings,
            migrations_dir=MIGRATIONS,
            state_sources=[COUNTERS_STATE],
            description="The activity timeline of each profile, and staff notes.",
            routers=[timeline_router, counters_router, notes_router],
            consumers=[
                ConsumerSpec(
                    name="timeline.activities",
                    topics=TOPICS,
                    handler=StateReader(ingest, live=LIVE_STATE),
                    handles=HANDLED,
                    max_records=settings.consumer_batch_size,
                ),
                # A new key map bootstraps from identity's snapshots, through the same code.
                state_consumer("timeline.state", STATE_TOPICS, ingest),
            ],
            on_startup=[open_read_pool],
            on_shutdown=[close_read_pool],
            background=[periodic("counter-sweep", settings.sweep_interval_seconds, sweep, run_at_start=True)],
            state=state,
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
