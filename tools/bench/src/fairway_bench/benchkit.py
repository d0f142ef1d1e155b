"""What every benchmark needs: real PostgreSQL and a real broker, and one way to print a figure.

Benchmarks print; they never assert. Targets are printed beside the figure so a reader sees the gap.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from fairway_localinfra import EmbeddedPostgres, free_port, port_open, start_tansu


@dataclass
class BenchEnv:
    pg_server_url: str  # postgresql+asyncpg://.../postgres
    bootstrap: str
    created: list[str] = field(default_factory=list)

    async def fresh_database(self, label: str) -> str:
        """A new database for one benchmark; returns its postgresql+asyncpg URL."""
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.pg_server_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return f"{self.pg_server_url.rsplit('/', 1)[0]}/{name}"

    async def drop_databases(self) -> None:
        """Drop the databases this benchmark made (only those: others may be running beside it)."""
        conn = await asyncpg.connect(self.pg_server_url.replace("+asyncpg", ""))
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def bench_env() -> AsyncIterator[BenchEnv]:
    """FAIRWAY_BENCH_DATABASE_URL / FAIRWAY_BENCH_KAFKA_BOOTSTRAP if set; else the local PostgreSQL on 5432 or an
    embedded one, and a Tansu broker of its own."""
    with contextlib.ExitStack() as stack:
        pg_url = os.environ.get("FAIRWAY_BENCH_DATABASE_URL")
        if not pg_url:
            if port_open("127.0.0.1", 5432):
                pg_url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
            else:
                pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="fairway-bench-pg-")), free_port())
                pg.start()
                stack.callback(pg.destroy)
                pg_url = pg.url
        bootstrap = os.environ.get("FAIRWAY_BENCH_KAFKA_BOOTSTRAP")
        if not bootstrap:
            port = free_port()
            proc = start_tansu(port, Path(tempfile.gettempdir()) / f"fairway-bench-tansu-{port}.log")
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
            bootstrap = f"127.0.0.1:{port}"
        env = BenchEnv(pg_url, bootstrap)
        try:
            yield env
        finally:
            await env.drop_databases()


async def wait_http(url: str, timeout: float = 120.0) -> None:
    """Return once GET `url` answers 200: a server this benchmark started is up."""
    import asyncio

    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:g}s")
            await asyncio.sleep(0.05)


def report(name: str, value: float, unit: str, target: str | None = None) -> None:
    line = f"BENCH {name}: {value:,.2f} {unit}"
    if target:
        line += f"   (target: {target})"
    print(line, flush=True)


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    out: list[float] = []
    start = time.perf_counter()
    yield out
    out.append(time.perf_counter() - start)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]
