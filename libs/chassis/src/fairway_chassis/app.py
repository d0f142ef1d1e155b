"""The service chassis: one process serving a FastAPI app, its event consumers and RPC servers, plus the outbox
relay. A service declares its routers, consumers and RPC operations; the chassis does the wiring.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_chassis.auth import TokenVerifier
from fairway_chassis.db import ensure_database, make_engine, make_sessionmaker, migrate
from fairway_chassis.errors import install_error_handlers
from fairway_chassis.gc_tuning import tune_gc
from fairway_chassis.guard import ErrorGuard, RequestGuard
from fairway_chassis.jobs import JobRegistry, Jobs
from fairway_chassis.logging import configure_logging
from fairway_chassis.observability import TracingMiddleware, configure_tracing, metrics_endpoint
from fairway_chassis.openapi import document_errors
from fairway_chassis.settings import ServiceSettings
from fairway_chassis.state import publish_loop
from fairway_chassis.state import router as state_router
from fairway_events.broker_epoch import BrokerEpoch
from fairway_events.catalogue import TopicNames
from fairway_events.consumer import BatchHandler, EventConsumer
from fairway_events.kafka import make_producer, wait_for_broker
from fairway_events.outbox import OutboxRelay
from fairway_events.rpc import RpcClient, RpcServer
from fairway_events.state_topics import StatePublisher, StateSource

log = structlog.get_logger("fairway.chassis")

StateT = TypeVar("StateT")


@dataclass
class Runtime(Generic[StateT]):
    """What a running service holds; endpoints reach it as `request.app.state.runtime`.

    `state` is the service's own typed object (its clock, caches, clients), given as `ServiceDefinition.state`;
    endpoints reach it through an `Annotated` dependency built with `runtime_state(MyState)`.
    """

    settings: ServiceSettings
    topics: TopicNames
    broker: KafkaBroker
    verifier: TokenVerifier
    engine: AsyncEngine | None = None
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    producer: AIOKafkaProducer | None = None
    rpc: RpcClient | None = None
    relay: OutboxRelay | None = None
    jobs: Jobs | None = None  # when the service declares a JobRegistry
    consumers: list[EventConsumer] = field(default_factory=list)
    state: StateT = None  # type: ignore[assignment]  # set from ServiceDefinition.state before anything runs


def runtime_state(kind: type[StateT]) -> Callable[[Request], Awaitable[StateT]]:
    """A FastAPI dependency returning the service's state, for an alias in the service's deps.py:

        MlStateDep = Annotated[MlState, Depends(runtime_state(MlState))]
    """

    async def dependency(request: Request) -> StateT:  # async: FastAPI runs a plain function in a thread
        state = request.app.state.runtime.state
        if not isinstance(state, kind):
            raise TypeError(f"the runtime holds {type(state).__name__}, not {kind.__name__}")
        return state

    return dependency


@dataclass
class ConsumerSpec:
    name: str
    topics: list[str]
    handler: BatchHandler
    handles: set[str] | None = None
    max_records: int = 500


Hook = Callable[[Runtime[Any]], Awaitable[None]]


@dataclass
class ServiceDefinition(Generic[StateT]):
    name: str
    settings: ServiceSettings
    migrations_dir: Path
    routers: list[APIRouter] = field(default_factory=list)
    consumers: list[ConsumerSpec] = field(default_factory=list)
    rpc_servers: list[RpcServer] = field(default_factory=list)
    rpc_client: bool = False
    on_startup: list[Hook] = field(default_factory=list)
    background: list[Hook] = field(default_factory=list)  # long-running loops, cancelled on stop
    on_shutdown: list[Hook] = field(default_factory=list)
    jobs: JobRegistry[Any] | None = None  # durable tasks; the chassis runs their worker in the lifespan
    state_sources: list[StateSource] = field(default_factory=list)  # this service's tables on state topics
    description: str = ""
    state: StateT = None  # type: ignore[assignment]  # the service's typed state, as `runtime.state`


def create_service(defn: ServiceDefinition) -> FastAPI:
    s = defn.settings
    topics = TopicNames(s.topic_prefix)
    state_publishers = [StatePublisher(source) for source in defn.state_sources]
    broker = KafkaBroker(s.kafka_bootstrap, client_id=f"fairway-{defn.name}", logger=None,
                         enable_idempotence=False, acks="all")
    # Never started: it only describes the service's topics for /asyncapi.json (event consumers run their own
    # aiokafka loops, RPC servers run on `broker`).
    docs = KafkaBroker(s.kafka_bootstrap, logger=None)
    runtime: Runtime[Any] = Runtime(
        settings=s, topics=topics, broker=broker, state=defn.state,
        verifier=TokenVerifier(secret=s.jwt_secret, algorithm=s.jwt_algorithm, jwks_url=s.jwks_url,
                               audience=s.jwt_audience),
    )
    for spec in defn.consumers:
        consumer = EventConsumer(
            name=spec.name, topics=spec.topics, handler=spec.handler, handles=spec.handles, topic_names=topics,
            max_attempts=s.consumer_max_attempts, tenants=set(s.tenants) if s.tenants else None,
            max_records=spec.max_records,
        )
        consumer.document(docs)
        runtime.consumers.append(consumer)
    for server in defn.rpc_servers:
        server.topics = topics
        server.attach(broker)
        server.attach(docs)
    _document_publications(docs, topics, defn.name)
    if defn.jobs is not None:
        runtime.jobs = defn.jobs.bind(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(defn.name, s.log_level, s.log_json)
        configure_tracing(defn.name)
        url = s.service_database_url
        if s.migrate_on_start:
            await ensure_database(url)
            await migrate(defn.migrations_dir, url)
        runtime.engine = make_engine(url, s.db_pool_size)
        runtime.sessionmaker = make_sessionmaker(runtime.engine)
        await wait_for_broker(s.kafka_bootstrap)
        runtime.producer = make_producer(s.kafka_bootstrap, client_id=f"fairway-{defn.name}")
        await runtime.producer.start()
        runtime.relay = OutboxRelay(runtime.engine, runtime.producer, topics, service=defn.name)

        async def broker_lost(last_seen: datetime) -> None:
            # Rows the relay published shortly before the broker was last seen whole may not have been read by
            # everyone yet: publish them again (and what followed).
            await runtime.relay.rewind(last_seen - timedelta(seconds=s.broker_loss_replay_seconds))

        runtime.relay.epoch = BrokerEpoch(runtime.producer, s.kafka_bootstrap, topics, defn.name,
                                          on_lost=broker_lost)
        await runtime.relay.epoch.ensure()  # the catalogue's topics, and this service's marker
        await runtime.relay.epoch.verify()
        for c in runtime.consumers:
            c.bind(runtime.sessionmaker, runtime.producer)
        for server in defn.rpc_servers:
            server.producer = runtime.producer
        tasks: list[asyncio.Task[None]] = []
        try:
            if runtime.jobs is not None:
                await runtime.jobs.open()
            if defn.rpc_client:
                runtime.rpc = RpcClient(s.kafka_bootstrap, runtime.producer, topics)
                await runtime.rpc.start()
            for hook in defn.on_startup:
                await hook(runtime)
            await broker.start()
            for c in runtime.consumers:
                await c.start(s.kafka_bootstrap, session_timeout_ms=s.kafka_session_timeout_ms,
                              heartbeat_interval_ms=max(100, s.kafka_session_timeout_ms // 6),
                              client_id=f"fairway-{defn.name}",
                              max_poll_interval_ms=s.kafka_max_poll_interval_ms)
            if s.run_relay:
                tasks.append(asyncio.create_task(runtime.relay.run(), name=f"{defn.name}-relay"))
            # Also when the relay is idle (or runs in another replica): a new broker gets its topics back at once.
            tasks.append(asyncio.create_task(runtime.relay.epoch.watch(), name=f"{defn.name}-broker-epoch"))
            if runtime.jobs is not None and s.run_jobs_worker:
                tasks.append(asyncio.create_task(runtime.jobs.run_worker(), name=f"{defn.name}-jobs"))
            tasks += [asyncio.create_task(b(runtime), name=f"{defn.name}-bg") for b in defn.background]
            if state_publishers:
                tasks.append(asyncio.create_task(publish_loop(state_publishers, s.state_publish_seconds)(runtime),
                                                 name=f"{defn.name}-state"))
            log.info("service started", port=s.port, database=s.db_name, topic_prefix=s.topic_prefix)
            yield
        finally:
            if runtime.relay:
                runtime.relay.stop()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for c in runtime.consumers:
                await c.stop()
            for hook in defn.on_shutdown:
                await hook(runtime)
            await broker.stop()
            if runtime.jobs is not None:
                await runtime.jobs.close()
            if runtime.rpc:
                await runtime.rpc.stop()
            await runtime.producer.stop()
            await runtime.engine.dispose()

    app = FastAPI(title=f"Fairway {defn.name}", description=defn.description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.migrations_dir = defn.migrations_dir
    app.state.state_publishers = state_publishers
    install_error_handlers(app)
    # Outermost last: tracing sees every answer, including the guards' 4xx and ErrorGuard's 500.
    app.add_middleware(RequestGuard, router=app.router, max_body_bytes=s.max_body_bytes,
                       max_json_depth=s.max_json_depth)
    app.add_middleware(ErrorGuard)
    app.add_middleware(TracingMiddleware, service=defn.name)
    metrics_endpoint(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": defn.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            assert runtime.engine is not None
            async with asyncio.timeout(2):
                async with runtime.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # report, do not raise: this is a probe
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            assert runtime.producer is not None
            async with asyncio.timeout(2):
                await runtime.producer.client.fetch_all_metadata()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        for c in runtime.consumers:  # a consumer that cannot make progress names its group and partitions
            checks[f"consumer {c.name}"] = c.problem() or "ok"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        spec = AsyncAPI(docs, title=f"Fairway {defn.name}", version="0.1.0").to_specification()
        return JSONResponse(spec.to_jsonable())

    for router in defn.routers:
        app.include_router(router)
    if state_publishers:
        app.include_router(state_router)
    document_errors(app)
    return app


def _document_publications(broker: KafkaBroker, topics: TopicNames, service: str) -> None:
    """Declare what the service publishes (through its outbox) so its AsyncAPI document lists every event."""
    from fairway_events.catalogue import TOPICS
    from fairway_events.registry import registry

    for topic in (t for t in TOPICS if t.owner == service):
        for spec in (s for s in registry.specs() if s.topic == topic.name):
            broker.publisher(topics(topic.name), title=f"{spec.event_type} v{spec.version}",
                             description=f"published via the outbox; key: {topic.key}", schema=spec.model)


async def migrate_database(app: FastAPI, settings: ServiceSettings) -> None:
    """Create the service's database if missing and bring it to the newest migration."""
    url = settings.service_database_url
    await ensure_database(url)
    await migrate(app.state.migrations_dir, url)


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Run one service process (`python -m fairway_<service>`), or only its migrations
    (`python -m fairway_<service> migrate`: a deployment's migration step before the rollout)."""
    import sys

    import uvicorn

    app = app_factory()
    if sys.argv[1:] == ["migrate"]:
        configure_logging(app.title, settings.log_level, settings.log_json)
        asyncio.run(migrate_database(app, settings))
        log.info("migrated", database=settings.db_name)
        return
    tune_gc()  # process-wide, so here in the service's own process (tests host many services in one)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on")
