"""Jobs shared by test_jobs.py and the worker process it kills: run as a script, it is a service's job worker."""
from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from typing import ClassVar

import asyncpg

from fairway_chassis import JobRegistry, Jobs, ServiceSettings

RUNS_DDL = ("CREATE TABLE IF NOT EXISTS job_runs (id bigserial PRIMARY KEY, key text NOT NULL, tenant_id text NOT NULL, "
            "phase text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")


class JobSettings(ServiceSettings):
    service_name: ClassVar[str] = "jobsdemo"
    default_port: ClassVar[int] = 8998


@dataclass
class JobEnv:
    """What these jobs need: a connection pool, and how long `record` holds a job before finishing it."""

    dsn: str
    hold_seconds: float
    pool: asyncpg.Pool | None = None

    async def conn_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=2)
        return self.pool


registry: JobRegistry[JobEnv] = JobRegistry("jobsdemo")


@registry.task("record")
async def record(env: JobEnv, *, tenant_id: str, key: str) -> None:
    pool = await env.conn_pool()
    await pool.execute("INSERT INTO job_runs (key, tenant_id, phase, pid) VALUES ($1, $2, 'started', $3)",
                       key, tenant_id, os.getpid())
    await asyncio.sleep(env.hold_seconds)
    await pool.execute("INSERT INTO job_runs (key, tenant_id, phase, pid) VALUES ($1, $2, 'finished', $3)",
                       key, tenant_id, os.getpid())


@registry.periodic("tick", cron="* * * * * *")
async def tick(env: JobEnv, *, timestamp: int) -> None:
    pool = await env.conn_pool()
    await pool.execute("INSERT INTO job_runs (key, tenant_id, phase, pid) VALUES ($1, '-', 'tick', $2)",
                       str(timestamp), os.getpid())


def make_jobs(settings: JobSettings, hold_seconds: float) -> tuple[Jobs, JobEnv]:
    env = JobEnv(dsn=settings.service_database_url.replace("+asyncpg", ""), hold_seconds=hold_seconds)
    return Jobs(registry, settings, lambda: env), env


async def _main(database_url: str, database_name: str, secret: str) -> None:
    settings = JobSettings(database_url=database_url, database_name=database_name, jwt_secret=secret,
                           jobs_heartbeat_seconds=0.2, jobs_stalled_seconds=1.0, jobs_poll_seconds=0.2)
    jobs, _ = make_jobs(settings, hold_seconds=3600)
    await jobs.open()
    await jobs.run_worker()


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:4]))
