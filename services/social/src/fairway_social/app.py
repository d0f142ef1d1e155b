"""Wiring only: which routers, consumers, jobs and background work make up the social service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import Clock, ConsumerSpec, Runtime, ServiceDefinition, create_service, serve
from fairway_social.ai.endpoints import router as ai_router
from fairway_social.connections.endpoints import router as connections_router
from fairway_social.content_calendar import handlers as calendar_handlers
from fairway_social.content_calendar.endpoints import router as calendar_router
from fairway_social.posts.endpoints import router as posts_router
from fairway_social.posts.media import router as media_router
from fairway_social.publishing.jobs import registry as jobs
from fairway_social.requests import handlers as requests_handlers
from fairway_social.settings import Settings
from fairway_social.state import SocialState

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    state = SocialState.create(settings, clock)

    async def bind(runtime: Runtime) -> None:
        state.jobs = runtime.jobs
        state.rpc = runtime.rpc

    async def close(runtime: Runtime) -> None:
        await state.platforms.http.aclose()

    return create_service(
        ServiceDefinition(
            name="social",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="OAuth connections to Facebook, Instagram and X; scheduled publishing; content calendar.",
            routers=[connections_router, ai_router, posts_router, media_router, calendar_router],
            consumers=[
                ConsumerSpec(name="social.requests", topics=requests_handlers.TOPICS,
                             handler=requests_handlers.PostRequests(state), handles=requests_handlers.HANDLED),
                ConsumerSpec(name="social.calendar", topics=calendar_handlers.TOPICS,
                             handler=calendar_handlers.CalendarFeed(state.clock), handles=calendar_handlers.HANDLED),
            ],
            jobs=jobs,
            rpc_client=True,
            on_startup=[bind],
            on_shutdown=[close],
            state=state,
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
