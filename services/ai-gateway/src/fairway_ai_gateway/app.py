"""Wiring only: which routers, consumers and background loops make up the ai-gateway service."""

from pathlib import Path

import structlog
from fastapi import FastAPI

from fairway_ai_gateway.admin.endpoints import router as admin_router
from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_ai_gateway.gateway.rpc import build_rpc_server
from fairway_ai_gateway.settings import Settings
from fairway_ai_gateway.sql import HotPool
from fairway_chassis import Runtime, ServiceDefinition, create_service, periodic, serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
log = structlog.get_logger("fairway.ai-gateway")


def create_app(settings: Settings | None = None, *, gateway: Gateway | None = None) -> FastAPI:
    settings = settings or Settings()
    gw = gateway or Gateway(settings)

    async def bind(runtime: Runtime) -> None:
        assert runtime.sessionmaker is not None
        # The LLM path's statements run on their own asyncpg pool (sql.HotPool, opened on first use).
        gw.bind(runtime.sessionmaker, HotPool(settings.service_database_url, size=settings.hot_pool_size))
        if gw.provider is None:
            log.warning(
                "no FAIRWAY_AI_ANTHROPIC_API_KEY: running offline, every operation answers from its fallback"
            )

    async def sweep(runtime: Runtime[Gateway]) -> None:
        orphans, purged = await gw.sweep()
        if orphans or purged:
            log.warning("swept", unsettled_reservations_charged=orphans, cache_entries_purged=purged)

    async def close(runtime: Runtime) -> None:
        await gw.close()

    return create_service(
        ServiceDefinition(
            name="ai-gateway",
            settings=settings,
            migrations_dir=MIGRATIONS,
            routers=[admin_router],
            rpc_servers=[build_rpc_server(gw)],
            on_startup=[bind],
            background=[periodic("sweep", settings.sweep_interval_seconds, sweep)],
            state=gw,
            on_shutdown=[close],
            description="The only way out to an LLM: cost caps, PII sanitisation, injection defence, validation, "
            "fallbacks, audit.",
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
