"""Wiring only: which routers, consumers and background work make up the journeys service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import Clock, ServiceDefinition, SystemClock, create_service, serve
from fairway_journeys.definitions.endpoints import router as journeys_router
from fairway_journeys.settings import Settings
from fairway_journeys.state import JourneysState

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    state = JourneysState(settings=settings, clock=clock or SystemClock())
    return create_service(
        ServiceDefinition(
            name="journeys",
            settings=settings,
            migrations_dir=MIGRATIONS,
            routers=[journeys_router],
            description="Multi-step automations started by what members do.",
            state=state,
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
