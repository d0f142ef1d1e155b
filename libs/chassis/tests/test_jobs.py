"""fairway_chassis.jobs against real PostgreSQL: procrastinate's schema from the service's migrations, a job runs
once, schedule_at and queueing locks hold, a job deferred in a rolled-back transaction never exists, periodic
tasks tick, and a worker killed mid-job leaves the job to be run again by another."""
from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from fairway_chassis import JobRegistry, ServiceDefinition, create_service
from fairway_chassis.db import ensure_database, make_sessionmaker, migrate
from fairway_testkit import TEST_JWT_SECRET, run_service, wait_for

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE.parents[2] / "services" / "campaigns" / "migrations"
_spec = importlib.util.spec_from_file_location("fairway_jobs_worker", HERE / "jobs_worker.py")
assert _spec and _spec.loader
worker_mod = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = worker_mod
_spec.loader.exec_module(worker_mod)
FAST = {"jobs_heartbeat_seconds": 0.2, "jobs_stalled_seconds": 1.0, "jobs_poll_seconds": 0.2}


@pytest.fixture
async def job_settings(settings_for):  # noqa: ANN001, ANN201
    s = settings_for(worker_mod.JobSettings, **FAST)
    await ensure_database(s.service_database_url)
    await migrate(MIGRATIONS, s.service_database_url)
    conn = await asyncpg.connect(s.service_database_url.replace("+asyncpg", ""))
    await conn.execute(worker_mod.RUNS_DDL)
    await conn.close()
    return s


async def _runs(settings, phase: str) -> list[asyncpg.Record]:  # noqa: ANN001
    conn = await asyncpg.connect(settings.service_database_url.replace("+asyncpg", ""))
    try:
        return await conn.fetch("SELECT key, tenant_id, pid, at FROM job_runs WHERE phase = $1 ORDER BY id", phase)
    finally:
        await conn.close()


def test_tasks_take_the_tenant() -> None:
    reg: JobRegistry[object] = JobRegistry("x")
    with pytest.raises(TypeError, match="tenant_id"):
        @reg.task("no-tenant")
        async def no_tenant(ctx: object, *, key: str) -> None: ...


async def test_worker_runs_in_the_service_lifespan(settings_for, job_settings) -> None:  # noqa: ANN001
    env = worker_mod.JobEnv(dsn=job_settings.service_database_url.replace("+asyncpg", ""), hold_seconds=0)
    reg = worker_mod.registry
    app = create_service(ServiceDefinition(
        name="jobsdemo", settings=job_settings, migrations_dir=MIGRATIONS,
        jobs=JobRegistry("jobsdemo", context=lambda _rt: env, specs=reg.specs)))
    async with run_service(app) as svc:
        jobs = svc.runtime.jobs
        assert jobs is not None
        await jobs.defer(worker_mod.record, tenant_id="stonehaven", key="welcome")
        runs = await wait_for(lambda: _runs(job_settings, "finished"), timeout=20, what="the job")
        assert [(r["key"], r["tenant_id"]) for r in runs] == [("welcome", "stonehaven")]
        await wait_for(lambda: _runs(job_settings, "tick"), timeout=20, what="a periodic tick")
        await asyncio.sleep(0.6)  # a second run would have shown by now (poll interval 0.2 s)
        assert len(await _runs(job_settings, "finished")) == 1
    if env.pool:
        await env.pool.close()


async def test_schedule_at_queueing_lock_and_transactional_defer(job_settings) -> None:  # noqa: ANN001
    jobs, env = worker_mod.make_jobs(job_settings, hold_seconds=0)
    engine = create_async_engine(job_settings.service_database_url)
    sessions = make_sessionmaker(engine)
    await jobs.open()
    worker = asyncio.create_task(jobs.run_worker())
    try:
        at = datetime.now(UTC) + timedelta(seconds=1.5)
        assert await jobs.defer(worker_mod.record, tenant_id="fairway", key="later", schedule_at=at,
                                queueing_lock="fairway:later") is not None
        # One waiting job per queueing lock: the second is refused, not queued.
        assert await jobs.defer(worker_mod.record, tenant_id="fairway", key="later", queueing_lock="fairway:later") \
            is None
        async with sessions() as session:  # rolled back: the job never exists
            await jobs.defer_in(session, worker_mod.record, tenant_id="fairway", key="rolled-back")
            await session.rollback()
        async with sessions() as session:
            assert await jobs.defer_in(session, "record", tenant_id="fairway", key="later",
                                       queueing_lock="fairway:later") is None  # the transaction carries on
            await jobs.defer_in(session, worker_mod.record, tenant_id="fairway", key="committed")
            await session.commit()
        await wait_for(lambda: _runs(job_settings, "finished"), timeout=20, what="the committed job")
        await asyncio.sleep(0.5)
        assert [r["key"] for r in await _runs(job_settings, "finished")] == ["committed"]
        runs = await wait_for(lambda: _keys(job_settings, "later"), timeout=20, what="the scheduled job")
        assert len(runs) == 1 and runs[0]["at"] >= at
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await jobs.close()
        await engine.dispose()
        if env.pool:
            await env.pool.close()


async def _keys(settings, key: str) -> list[asyncpg.Record]:  # noqa: ANN001
    return [r for r in await _runs(settings, "finished") if r["key"] == key]


async def test_a_job_of_a_killed_worker_runs_again(job_settings) -> None:  # noqa: ANN001
    s = job_settings
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "jobs_worker.py"), s.database_url, s.db_name, TEST_JWT_SECRET,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    jobs, env = worker_mod.make_jobs(s, hold_seconds=0)
    await jobs.open()
    try:
        await jobs.defer(worker_mod.record, tenant_id="stonehaven", key="renewal-reminder")
        started = await wait_for(lambda: _runs(s, "started"), timeout=60, what="the worker process to start the job")
        assert started[0]["pid"] == proc.pid
        proc.send_signal(signal.SIGKILL)  # mid-job: no goodbye, no unregistering
        await proc.wait()
        worker = asyncio.create_task(jobs.run_worker())
        try:
            runs = await wait_for(lambda: _runs(s, "finished"), timeout=30, what="the stalled job to run again")
            assert [(r["key"], r["pid"]) for r in runs] == [("renewal-reminder", os.getpid())]
            assert len(await _runs(s, "started")) == 2
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await jobs.close()
        if env.pool:
            await env.pool.close()
