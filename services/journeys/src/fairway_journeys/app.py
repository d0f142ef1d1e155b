"""Wiring only: which routers, consumers and durable jobs make up the journeys service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import (
    Clock,
    ConsumerSpec,
    ServiceDefinition,
    SystemClock,
    create_service,
    serve,
    state_consumer,
)
from fairway_events.state_readers import StateReader
from fairway_journeys import jobs
from fairway_journeys.analytics.endpoints import router as analytics_router
from fairway_journeys.definitions.endpoints import router as journeys_router
from fairway_journeys.generate.endpoints import router as generate_router
from fairway_journeys.readmodel.service import LIVE_STATE, STATE_TOPICS
from fairway_journeys.runs.endpoints import router as runs_router
from fairway_journeys.settings import Settings
from fairway_journeys.state import JourneysState
from fairway_journeys.triggers.handlers import HANDLED, TOPICS, make_handler

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    state = JourneysState(settings=settings, clock=clock or SystemClock())
    app = create_service(
        ServiceDefinition(
            name="journeys",
            settings=settings,
            migrations_dir=MIGRATIONS,
            routers=[generate_router, journeys_router, analytics_router, runs_router],
            rpc_client=True,  # journey.generate and journey.insights on the AI gateway
            consumers=[
                ConsumerSpec(name="journeys.events", topics=TOPICS,
                             handler=StateReader(make_handler(state.clock, state.deps), live=LIVE_STATE),
                             handles=HANDLED),
                # A new read model bootstraps from the owners' state topics (no trigger fires on a snapshot).
                state_consumer("journeys.state", STATE_TOPICS, make_handler(state.clock, state.deps, state=True)),
            ],
            jobs=jobs.registry,
            description="Multi-step automations started by what members do.",
            state=state,
        )
    )
    runtime = app.state.runtime
    state.jobs = runtime.jobs
    if runtime.jobs is not None:
        state.deps.scheduler = jobs.JobsTimerScheduler(runtime.jobs)
    return app


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
