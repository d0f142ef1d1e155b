"""Wiring only: which routers, consumers and background loops make up the campaigns service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_campaigns.settings import Settings
from fairway_chassis import ServiceDefinition, create_service, serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service(
        ServiceDefinition(
            name="campaigns",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="Campaigns, scheduling, A/B tests, send-time optimisation, event promotion, content approval.",
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
