"""Wiring only: which routers, consumers and background loops make up the ml-scoring service."""

import asyncio
from pathlib import Path

from fastapi import FastAPI

from fairway_chassis import (
    Clock,
    ConsumerSpec,
    Runtime,
    ServiceDefinition,
    SystemClock,
    create_service,
    periodic,
    serve,
    state_consumer,
)
from fairway_events.state_readers import StateReader
from fairway_ml_scoring.churn.endpoints import router as churn_router
from fairway_ml_scoring.churn.online import serve_online
from fairway_ml_scoring.clv.endpoints import router as clv_router
from fairway_ml_scoring.clv.model import load_clv_model
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.engagement.endpoints import router as engagement_router
from fairway_ml_scoring.ingest.handlers import HANDLED, LIVE_STATE, STATE_TOPICS, TOPICS, FeatureIngest
from fairway_ml_scoring.jobs import check_all_drift, refresh_all_tenants, watch_models
from fairway_ml_scoring.lifecycle.endpoints import router as models_router
from fairway_ml_scoring.scoring.announce import SCORES_STATE
from fairway_ml_scoring.settings import Settings
from fairway_ml_scoring.sto.endpoints import router as sto_router

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    ctx = MlContext(settings=settings, clock=clock or SystemClock())
    ingest = FeatureIngest(ctx)

    async def start(runtime: Runtime) -> None:
        await asyncio.to_thread(ctx.start, load_clv_model)
        assert runtime.engine is not None and runtime.sessionmaker is not None
        serve_online(ctx, runtime.engine, runtime.sessionmaker)

    async def stop(runtime: Runtime) -> None:
        if ctx.prediction_writer is not None:
            await ctx.prediction_writer.close()
        await ctx.drain()
        ctx.stop()

    return create_service(
        ServiceDefinition(
            name="ml-scoring",
            settings=settings,
            migrations_dir=MIGRATIONS,
            state_sources=[SCORES_STATE],
            description="Engagement, churn risk, predicted lifetime value and send-time profiles.",
            routers=[churn_router, clv_router, engagement_router, sto_router, models_router],
            consumers=[
                ConsumerSpec(
                    name="ml-scoring.features", topics=TOPICS, handler=StateReader(ingest, live=LIVE_STATE),
                    handles=HANDLED,
                ),
                # A new feature store's key map and profiles bootstrap from the owners' snapshots, same code.
                state_consumer("ml-scoring.state", STATE_TOPICS, ingest),
            ],
            on_startup=[start],
            background=[
                periodic("watch-models", settings.model_poll_seconds, watch_models),
                periodic("materialize", settings.materialize_interval_seconds, refresh_all_tenants),
                periodic("drift", settings.drift_interval_seconds, check_all_drift),
            ],
            on_shutdown=[stop],
            state=ctx,
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
