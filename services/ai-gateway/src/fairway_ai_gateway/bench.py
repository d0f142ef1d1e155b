"""python -m fairway_ai_gateway.bench: the latency the gateway adds to an LLM call.

The same local fake provider (its own process, so its CPU is not the gateway's) is called two ways at a fixed
arrival rate (open loop: requests start on schedule whether or not earlier ones finished):
  direct   the anthropic SDK straight to the fake provider, with the prompt the gateway would send;
  gateway  Gateway.run: config, scrubbing and field policy, injection screen, rate limit, budget reservation in
           PostgreSQL, breaker, the same SDK call, output validation, settlement, audit log (real PostgreSQL).
"Added" is, per gateway request, its total time minus the time it spent waiting for the provider; its p99 is
the figure with the 5 ms target. End-to-end percentiles of both ways are printed beside it.

Each rate of FAIRWAY_BENCH_RATES (default "25,500" requests/s: one this shared 2-core machine sustains, and the
target rate) runs FAIRWAY_BENCH_SECONDS (default 4) per phase, spread over FAIRWAY_BENCH_TENANTS clubs (default
20). At most 128 requests are in flight; time queued behind that limit counts in the end-to-end figures.
CPU per request (of this process) is printed too: it is what decides the rate one process can carry.
Both paths use the same SDK client (`provider.client.make_sdk`: aiohttp transport) on the same uvloop event loop,
which is the loop the service runs on (uvicorn picks uvloop when it is installed).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import asyncpg
import httpx
import uvloop

from fairway_ai_gateway.app import MIGRATIONS
from fairway_ai_gateway.config.schemas import TenantAIConfigPatch
from fairway_ai_gateway.fake_provider.server import free_port
from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_ai_gateway.operations import OPERATIONS, Context
from fairway_ai_gateway.provider.client import make_sdk
from fairway_ai_gateway.settings import Settings
from fairway_ai_gateway.sql import HotPool
from fairway_chassis.db import make_engine, make_sessionmaker, migrate
from fairway_cli.benchkit import bench_env, percentile, report
from fairway_events import utcnow

RATES = [float(r) for r in os.environ.get("FAIRWAY_BENCH_RATES", "25,500").split(",")]
SECONDS = float(os.environ.get("FAIRWAY_BENCH_SECONDS", "4"))
TENANTS = int(os.environ.get("FAIRWAY_BENCH_TENANTS", "20"))  # a platform serves many clubs at once

PROFILE = {
    "profileId": "p-1",
    "firstName": "Thandi",
    "lastName": "Nkosi",
    "memberNumber": "M-1001",
    "email": "thandi@example.com",
    "phoneNumber": "+27825551234",
    "dateOfBirth": "1985-06-01",
    "lifetimeValue": 250000,
    "engagementScore": 82,
    "membershipTier": "Gold",
    "handicap": 12.4,
    "aiMarketingConsent": True,
}


def content_request(i: int) -> dict[str, Any]:
    return {
        "type": "EMAIL_SUBJECT",
        "campaignGoal": f"Fill the Saturday tee sheet (run {i}); call 082 555 1234",
        "availableTokens": ["firstName"],
        "tone": "FRIENDLY",
        "variantCount": 3,
        "profile": PROFILE,
        "personalize": True,
    }


async def open_loop(
    n: int, rate: float, one: Callable[[int], Awaitable[float | None]], max_in_flight: int = 128
) -> tuple[list[float], float]:
    """Start request i at i/rate seconds; returns each request's latency (seconds, from its scheduled start, so
    time spent queued behind the in-flight limit counts) and the wall time."""
    results: list[float] = []
    gate = asyncio.Semaphore(max_in_flight)
    start = time.perf_counter()

    async def fire(i: int) -> None:
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        async with gate:
            queued = time.perf_counter() - scheduled
            v = await one(i)
        if v is not None:
            results.append(v + max(0.0, queued))

    await asyncio.gather(*[fire(i) for i in range(n)])
    return results, time.perf_counter() - start


async def own_database(server_url: str) -> str:
    """A database of this run's own. Not benchkit's fresh_database: its names (bench_*) are dropped with FORCE
    by any other benchmark that finishes meanwhile, which kills this run's connections mid-phase."""
    name = f"aigw_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


async def drop_database(server_url: str, db_url: str) -> None:
    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db_url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            try:
                if (await c.get(f"{url}/_fake/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("fake provider did not start")


async def main() -> None:
    port = free_port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fairway_ai_gateway.fake_provider", "--port", str(port)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(url)
        async with bench_env() as env:
            db = await own_database(env.pg_server_url)
            await migrate(MIGRATIONS, db)
            settings = Settings(
                database_url=db,
                database_name=db.rsplit("/", 1)[1],
                kafka_bootstrap=env.bootstrap,
                jwt_secret="bench-" + "x" * 40,
                anthropic_api_key="bench-key",
                anthropic_base_url=url,
                log_level="WARNING",
                db_pool_size=5,
            )
            engine = make_engine(db, 5)
            gw = Gateway(settings)
            gw.bind(make_sessionmaker(engine), HotPool(db, size=settings.hot_pool_size))  # as app.py does
            limits = TenantAIConfigPatch(
                maxDailyLLMCalls=1_000_000,
                maxHourlyLLMCalls=1_000_000,
                maxDailyCost=100_000,
                maxMonthlyCost=100_000,
                dailyCostWarning=50_000,
                dailyCostCritical=90_000,
                requestsPerMinute=1_000_000,
                cacheContentVariants=False,
                allowLLMPersonalization=True,
            )
            for t in range(TENANTS):
                async with gw.sessionmaker() as s, s.begin():  # type: ignore[misc]
                    await gw.configs.update(s, f"bench-club-{t}", limits, "bench")
            # the prompt the gateway sends, for the direct calls
            op = OPERATIONS["content.generate"]
            async with gw.sessionmaker() as s:  # type: ignore[misc]
                cfg = await gw.configs.get(s, "bench-club-0")
            ctx = Context(
                tenant_id="bench-club-0",
                cfg=cfg,
                request=op.request_model.model_validate(content_request(0)),
                now=utcnow(),
                scrubber=gw.scrubber,
                guard=gw.guard,
                max_caller_text=1000,
            )
            prompt = op.prepare(ctx)
            sdk = make_sdk(
                api_key="bench-key",
                base_url=url,
                timeout=settings.provider_timeout_seconds,
                tracing=settings.provider_tracing,
            )

            errors: dict[str, int] = {}

            async def direct(i: int) -> float | None:
                t0 = time.perf_counter()
                try:
                    await sdk.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=prompt.max_tokens,
                        system=prompt.system,
                        messages=[{"role": "user", "content": prompt.user}],
                    )
                except anthropic.APIError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    return None
                return time.perf_counter() - t0

            added: list[float] = []
            sources: dict[str, int] = {}

            async def through_gateway(i: int) -> float:
                t0 = time.perf_counter()
                tenant = f"bench-club-{i % TENANTS}"
                result, out = await gw.run_detailed(tenant, "content.generate", content_request(i))
                total = time.perf_counter() - t0
                added.append(total - out.provider_seconds)
                sources[result["source"]] = sources.get(result["source"], 0) + 1
                return total

            # warm up connections, caches and code paths
            await open_loop(200, 100, direct)
            await open_loop(200, 100, through_gateway)
            ms = 1000
            for rate in RATES:
                n = int(rate * SECONDS)
                added.clear()
                sources.clear()
                errors.clear()
                c0 = time.process_time()
                d_lat, d_wall = await open_loop(n, rate, direct)
                d_cpu = (time.process_time() - c0) / n
                c0 = time.process_time()
                g_lat, g_wall = await open_loop(n, rate, through_gateway)
                g_cpu = (time.process_time() - c0) / n
                label = f"ai-gateway @{rate:g}/s"
                print(
                    f"# {n} requests per phase at {rate:g}/s offered, {TENANTS} tenants; gateway answers by "
                    f"source: {sources}; direct call errors: {errors or 'none'}"
                )
                report(f"{label} direct achieved rate", n / d_wall, "req/s", f"{rate:g}")
                report(f"{label} gateway achieved rate", n / g_wall, "req/s", f"{rate:g}")
                report(f"{label} direct p50", percentile(d_lat, 50) * ms, "ms")
                report(f"{label} direct p99", percentile(d_lat, 99) * ms, "ms")
                report(f"{label} gateway p50", percentile(g_lat, 50) * ms, "ms")
                report(f"{label} gateway p99", percentile(g_lat, 99) * ms, "ms")
                report(f"{label} added p50", percentile(added, 50) * ms, "ms")
                report(
                    f"{label} added p99", percentile(added, 99) * ms, "ms", "< 5 ms" if rate == 500 else None
                )
                report(f"{label} CPU per request, direct", d_cpu * ms, "ms")
                report(f"{label} CPU per request, gateway", g_cpu * ms, "ms")
            await sdk.close()
            await gw.close()
            await engine.dispose()
            await drop_database(env.pg_server_url, db)
    finally:
        fake.terminate()
        await fake.wait()


if __name__ == "__main__":
    # uvloop, as the service runs (uvicorn picks it when installed); both paths share this loop.
    uvloop.run(main())
