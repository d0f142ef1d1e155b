"""Wiring only: which routers, consumers and background loops make up the social service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import ServiceDefinition, create_service, serve
from fairway_social.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service(
        ServiceDefinition(
            name="social",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="OAuth connections to Facebook, Instagram and X; scheduled publishing; content calendar.",
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
