"""Wiring only: which routers, consumers and background loops make up the timeline service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from fairway_chassis import ConsumerSpec, Runtime, ServiceDefinition, create_service, serve
from fairway_timeline.activities.endpoints import router as timeline_router
from fairway_timeline.api import READ_SESSIONS
from fairway_timeline.clock import Clock, SystemClock
from fairway_timeline.counters.service import sweep_forever
from fairway_timeline.ingest.handler import HANDLED, TOPICS, TimelineIngest
from fairway_timeline.notes.endpoints import router as notes_router
from fairway_timeline.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
READ_ENGINE = "read_engine"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()

    async def open_read_pool(runtime: Runtime) -> None:
        engine = create_async_engine(
            settings.service_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",
        )
        runtime.extras[READ_ENGINE] = engine
        runtime.extras[READ_SESSIONS] = async_sessionmaker(engine, expire_on_commit=False)

    async def close_read_pool(runtime: Runtime) -> None:
        if READ_ENGINE in runtime.extras:
            await runtime.extras[READ_ENGINE].dispose()

    async def sweep(runtime: Runtime) -> None:
        assert runtime.sessionmaker is not None
        await sweep_forever(
            runtime.sessionmaker,
            clock,
            settings.sweep_interval_seconds,
            pending_ttl=timedelta(hours=settings.pending_ttl_hours),
            erased_key_retention=timedelta(days=settings.erased_key_retention_days),
        )

    app = create_service(
        ServiceDefinition(
            name="timeline",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="The activity timeline of each profile, and staff notes.",
            routers=[timeline_router, notes_router],
            consumers=[
                ConsumerSpec(
                    name="timeline.activities",
                    topics=TOPICS,
                    handler=TimelineIngest(settings, clock),
                    handles=HANDLED,
                    max_records=settings.consumer_batch_size,
                )
            ],
            on_startup=[open_read_pool],
            on_shutdown=[close_read_pool],
            background=[sweep],
        )
    )
    app.state.runtime.extras["clock"] = clock  # endpoints read "now" from the same clock as the consumer
    return app


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
