"""Wiring only: which routers, consumers and background loops make up the segmentation service."""

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
from fairway_segmentation import maintenance
from fairway_segmentation.ingest.handlers import HANDLED, LIVE_STATE, STATE_TOPICS, TOPICS, make_handler
from fairway_segmentation.nl.endpoints import router as nl_router
from fairway_segmentation.segments.announce import MEMBERSHIP_STATE
from fairway_segmentation.segments.endpoints import router, tools
from fairway_segmentation.settings import Settings
from fairway_segmentation.state import SegmentationState

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()
    handler = make_handler(clock)
    return create_service(
        ServiceDefinition(
            name="segmentation",
            settings=settings,
            migrations_dir=MIGRATIONS,
            routers=[tools, nl_router, router],
            consumers=[
                ConsumerSpec(
                    name="segmentation.read-model",
                    topics=TOPICS,
                    handler=StateReader(handler, live=LIVE_STATE),
                    handles=HANDLED,
                ),
                # A new read model bootstraps from the owners' state topics, through the same handler.
                state_consumer("segmentation.state", STATE_TOPICS, handler),
            ],
            rpc_client=True,  # POST /segments/nl asks the AI gateway's segment.parse
            background=[maintenance.loop(clock)],
            state_sources=[MEMBERSHIP_STATE],
            description="Dynamic and static segments over cross-service data; natural-language segment builder.",
            state=SegmentationState(clock=clock),
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
