"""Wiring only: which routers, consumers and background loops make up the ai-gateway service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_ai_gateway.settings import Settings
from fairway_chassis import ServiceDefinition, create_service, serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service(
        ServiceDefinition(
            name="ai-gateway",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="The only way out to an LLM: cost caps, PII sanitisation, injection defence, validation, fallbacks, audit.",
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
