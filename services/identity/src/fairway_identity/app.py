"""Wiring only: which routers, consumers and background loops make up the identity service."""

from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import ConsumerSpec, ServiceDefinition, create_service, serve
from fairway_events.contracts.upstream import UPSTREAM_TOPICS
from fairway_identity.merging import endpoints as merging
from fairway_identity.privacy import endpoints as privacy
from fairway_identity.profiles import endpoints as profiles
from fairway_identity.profiles import handlers as profile_commands
from fairway_identity.profiles.announce import PROFILE_STATE
from fairway_identity.resolution import endpoints as resolution
from fairway_identity.resolution.handlers import PERSON_EVENTS, ResolveBatch
from fairway_identity.settings import Settings
from fairway_identity.synclog import endpoints as synclog

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
CONSUMER = "identity.resolution"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service(
        ServiceDefinition(
            name="identity",
            settings=settings,
            migrations_dir=MIGRATIONS,
            # Fixed paths (/resolve, /merge-candidates) before /{profile_id}.
            routers=[
                resolution.router,
                merging.candidates_router,
                profiles.router,
                merging.router,
                privacy.router,
                synclog.router,
            ],
            consumers=[
                ConsumerSpec(
                    name=CONSUMER,
                    topics=list(UPSTREAM_TOPICS),
                    handler=ResolveBatch(settings.policy_for),
                    handles=set(PERSON_EVENTS),
                    max_records=settings.consumer_batch_size,
                ),
                ConsumerSpec(
                    name=profile_commands.CONSUMER,
                    topics=profile_commands.TOPICS,
                    handler=profile_commands.commands,
                    handles=profile_commands.commands.types,
                ),
            ],
            state_sources=[PROFILE_STATE],
            description="One CustomerProfile per person: identity resolution, merge/unmerge, consent mirror, erasure.",
        )
    )
    return app


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
