"""Wiring only: which routers, consumers and background loops make up the timeline service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import ServiceDefinition, create_service, serve
from fairway_timeline.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service(
        ServiceDefinition(
            name="timeline",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="The activity timeline of each profile, and staff notes.",
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
