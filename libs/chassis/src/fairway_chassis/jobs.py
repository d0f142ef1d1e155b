"""Durable jobs: the platform's procrastinate integration (PostgreSQL-backed; no hand-written polling loops).

A service declares its tasks on a `JobRegistry` and passes it as `ServiceDefinition(jobs=...)`. The chassis builds a
procrastinate App on the service's own database for each app it creates (tests host many in one process, so nothing
is bound at import time), runs its worker inside the service's lifespan and stops it on shutdown. The schema comes
from the service's Alembic migrations (`create_procrastinate_schema_op()`).

- Every task takes the tenant as the keyword `tenant_id`, checked when the task is declared and when it is deferred.
- `schedule_at` and `queueing_lock` (at most one waiting job per lock) are arguments of `defer`; `defer_in` defers in
  the caller's own transaction, so a job exists exactly when the state change that needs it commits.
- Periodic tasks (cron, optional sixth field for seconds) are platform-wide; one that acts on tenant data defers a
  job per tenant.
- A worker killed mid-job leaves its job `doing` with a dead heartbeat; every service runs a periodic task that
  hands such jobs back to the queue, so they run again (task code must be idempotent, as event handlers are).
"""
from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import orjson
import procrastinate
import psycopg_pool
import structlog
from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from fairway_chassis.settings import ServiceSettings

log = structlog.get_logger("fairway.jobs")

C = TypeVar("C")


class Bindable(Protocol):
    """What the jobs need of a running service (the chassis' Runtime): its settings. A protocol, so the app module
    that builds a Runtime may import jobs without jobs importing it back."""

    @property
    def settings(self) -> ServiceSettings: ...

TaskFn = Callable[..., Awaitable[Any]]
DEFAULT_QUEUE = "default"
DEFAULT_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)
_RETRY_STALLED = "fairway.retry_stalled_jobs"


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: TaskFn
    queue: str
    retry: RetryStrategy | int | bool
    cron: str | None = None  # periodic when set


@dataclass
class JobRegistry(Generic[C]):
    """The tasks of one service. `context(runtime)` builds the first argument every task receives (the Runtime
    itself by default): the few things the service's jobs need, not the whole process."""

    service: str
    context: Callable[[Any], C] | None = None  # called with the service's Runtime
    specs: dict[str, TaskSpec] = field(default_factory=dict)

    def task(self, name: str, *, queue: str = DEFAULT_QUEUE, retry: RetryStrategy | int | bool = DEFAULT_RETRY
             ) -> Callable[[TaskFn], TaskFn]:
        """`async def fn(ctx, *, tenant_id: str, **json_kwargs)`. Retries an exception with backoff (5 attempts)."""

        def register(fn: TaskFn) -> TaskFn:
            params = inspect.signature(fn).parameters
            if "tenant_id" not in params or params["tenant_id"].kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"task {name}: tenant_id must be a keyword-only parameter (tenant on every job)")
            self._add(TaskSpec(name=name, fn=fn, queue=queue, retry=retry))
            return fn

        return register

    def periodic(self, name: str, *, cron: str, queue: str = DEFAULT_QUEUE) -> Callable[[TaskFn], TaskFn]:
        """`async def fn(ctx, *, timestamp: int)`, run once per cron tick across all replicas."""

        def register(fn: TaskFn) -> TaskFn:
            self._add(TaskSpec(name=name, fn=fn, queue=queue, retry=False, cron=cron))
            return fn

        return register

    def _add(self, spec: TaskSpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"task {spec.name} is declared twice")
        self.specs[spec.name] = spec

    def name_of(self, task: TaskFn | str) -> str:
        name = task if isinstance(task, str) else next((s.name for s in self.specs.values() if s.fn is task), None)
        if name is None or name not in self.specs:
            raise KeyError(f"not a task of {self.service}: {task!r}")
        return name

    async def defer_in(self, session: AsyncSession, task: TaskFn | str, *, tenant_id: str,
                       schedule_at: dt.datetime | None = None, queueing_lock: str | None = None,
                       lock: str | None = None, priority: int = 0, **kwargs: Any) -> int | None:
        """Defer a job in the caller's transaction: it exists if and only if that transaction commits (no open App
        needed: it is one SQL call). Returns its id, or None when `queueing_lock` already has a waiting job (the
        transaction carries on)."""
        spec = self.specs[self.name_of(task)]
        params = {
            "queue": spec.queue, "task": spec.name, "priority": priority, "lock": lock, "qlock": queueing_lock,
            "args": orjson.dumps({"tenant_id": tenant_id, **kwargs}).decode(), "at": schedule_at,
        }
        try:
            async with session.begin_nested():
                return (await session.execute(_DEFER_SQL, params)).scalar_one()
        except IntegrityError as exc:
            if queueing_lock is not None and "procrastinate_jobs_queueing_lock_idx" in str(exc.orig):
                return None
            raise

    def bind(self, runtime: Bindable) -> Jobs:
        """The service's Jobs for one running app; task context built from `runtime` when the jobs open."""
        context = self.context
        return Jobs(self, runtime.settings, lambda: context(runtime) if context else runtime)


def _conninfo(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _stalled_cron(stalled_seconds: float) -> str:
    """Check for stalled jobs about twice per stalled timeout (a divisor of 60 seconds, so ticks stay even)."""
    step = max((d for d in (1, 2, 3, 5, 10, 15, 20, 30) if d <= max(1.0, stalled_seconds / 2)), default=1)
    return f"*/{step} * * * * *"


class Jobs:
    """A service's procrastinate App on its own database: defer jobs, run the worker."""

    def __init__(self, registry: JobRegistry[Any], settings: ServiceSettings, context: Callable[[], Any]) -> None:
        self.registry = registry
        self.settings = settings
        self._make_context = context
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        self._context: Any = None
        self._pool: psycopg_pool.AsyncConnectionPool | None = None
        self._worker: Any = None
        for spec in registry.specs.values():
            self._register(spec)
        self._register(TaskSpec(name=_RETRY_STALLED, fn=self._retry_stalled, queue=DEFAULT_QUEUE, retry=False,
                                cron=_stalled_cron(self.settings.jobs_stalled_seconds)), wrap_context=False)

    def _register(self, spec: TaskSpec, *, wrap_context: bool = True) -> None:
        fn = spec.fn

        @functools.wraps(fn)
        async def run(job: JobContext, **kwargs: Any) -> Any:
            tenant = kwargs.get("tenant_id")
            with structlog.contextvars.bound_contextvars(tenant_id=tenant, job_id=job.job.id, task=spec.name):
                if not wrap_context:
                    return await fn(**kwargs)
                return await fn(self._context, **kwargs)

        task = self.app.task(name=spec.name, queue=spec.queue, retry=spec.retry, pass_context=True)(run)
        if spec.cron:
            self.app.periodic(cron=spec.cron, periodic_id=spec.name)(task)

    async def open(self) -> None:
        """Open the connection pool (deferring works from here on)."""
        self._context = self._make_context()
        s = self.settings
        self._pool = psycopg_pool.AsyncConnectionPool(
            _conninfo(s.service_database_url), min_size=1, max_size=s.jobs_concurrency + 3, open=False,
            kwargs={"application_name": f"fairway-{s.service_name}-jobs"},
            check=psycopg_pool.AsyncConnectionPool.check_connection,
        )
        await self._pool.open(wait=True)
        await self.app.open_async(self._pool)

    async def run_worker(self) -> None:
        """The worker, until cancelled (the chassis runs it as a background task of the lifespan)."""
        s = self.settings
        self._worker = self.app._worker(  # noqa: SLF001 (run_worker_async hides the Worker, which we must stop)
            name=f"{s.service_name}-worker", concurrency=s.jobs_concurrency, install_signal_handlers=False,
            update_heartbeat_interval=s.jobs_heartbeat_seconds, stalled_worker_timeout=s.jobs_stalled_seconds,
            fetch_job_polling_interval=s.jobs_poll_seconds, shutdown_graceful_timeout=s.jobs_shutdown_seconds,
            delete_jobs="successful",
        )
        await self._worker.run()

    async def close(self) -> None:
        await self.app.close_async()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _name(self, task: TaskFn | str) -> str:
        return self.registry.name_of(task)

    async def defer(self, task: TaskFn | str, *, tenant_id: str, schedule_at: dt.datetime | None = None,
                    queueing_lock: str | None = None, lock: str | None = None, priority: int = 0,
                    **kwargs: Any) -> int | None:
        """Defer a job (its own connection, committed at once). Returns its id, or None when `queueing_lock` already
        has a waiting job."""
        name = self._name(task)
        deferrer = self.app.configure_task(name, schedule_at=schedule_at, queueing_lock=queueing_lock, lock=lock,
                                           priority=priority)
        try:
            return await deferrer.defer_async(tenant_id=tenant_id, **kwargs)
        except AlreadyEnqueued:
            return None

    async def defer_in(self, session: AsyncSession, task: TaskFn | str, *, tenant_id: str,
                       schedule_at: dt.datetime | None = None, queueing_lock: str | None = None,
                       lock: str | None = None, priority: int = 0, **kwargs: Any) -> int | None:
        """See `JobRegistry.defer_in`."""
        return await self.registry.defer_in(session, task, tenant_id=tenant_id, schedule_at=schedule_at,
                                            queueing_lock=queueing_lock, lock=lock, priority=priority, **kwargs)

    async def _retry_stalled(self, *, timestamp: int) -> None:
        """Jobs left `doing` by a worker whose heartbeat stopped (killed, partitioned) go back to the queue."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.jobs_stalled_seconds):
            log.warning("retrying stalled job", job_id=job.id, task=job.task_name, tenant_id=job.task_kwargs.get(
                "tenant_id"))
            await manager.retry_job(job)


_DEFER_SQL = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :qlock, "
    "CAST(:args AS jsonb), CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1]))"
)


def create_procrastinate_schema_op() -> None:
    """Used by a service's Alembic migration: procrastinate's tables, types and functions, as shipped with the
    installed version. Upgrading procrastinate needs a migration that applies its sql/migrations files."""
    from alembic import op
    from procrastinate.schema import SchemaManager

    ddl = SchemaManager.get_schema()
    # Several statements with dollar-quoted bodies: the simple-query protocol of the raw asyncpg connection.
    op.get_bind().connection.dbapi_connection.run_async(lambda raw: raw.execute(ddl))


def drop_procrastinate_schema_op() -> None:
    from alembic import op

    op.execute(
        "DO $$ DECLARE r record; BEGIN "
        "FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'procrastinate%' LOOP EXECUTE 'DROP TABLE ' || quote_ident(r.tablename) || ' CASCADE'; "
        "END LOOP; "
        "FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP "
        "EXECUTE 'DROP FUNCTION ' || r.f || ' CASCADE'; END LOOP; "
        "FOR r IN SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = current_schema() AND typname LIKE 'procrastinate%' AND typtype IN ('e', 'c') LOOP "
        "EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE'; END LOOP; END $$"
    )
