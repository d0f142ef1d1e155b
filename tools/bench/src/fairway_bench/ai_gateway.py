"""python -m fairway_bench.ai_gateway: the latency the gateway adds to an LLM call.

The same local fake provider (its own process, so its CPU is not the gateway's) is called two ways at a fixed
arrival rate (open loop: requests start on schedule whether or not earlier ones finished):
  direct   the anthropic SDK straight to the fake provider, with the prompt the gateway would send;
  gateway  Gateway.run: config, scrubbing and field policy, injection screen, rate limit, budget reservation in
           PostgreSQL, breaker, the same SDK call, output validation, settlement, audit log (real PostgreSQL).
"Added" is, per gateway request, its total time minus the time it spent waiting for the provider; its p99 is
the figure with the 5 ms target. End-to-end percentiles of both ways are printed beside it.

Each rate of FAIRWAY_BENCH_RATES (default "25,500" requests/s: one this shared 2-core machine sustains, and the
target rate) runs FAIRWAY_BENCH_SECONDS (default 4) per phase, spread over FAIRWAY_BENCH_TENANTS clubs (default
20). At most 128 requests per process are in flight; time queued behind that limit counts in the end-to-end
figures. CPU per request of the gateway/bench processes is printed too: it is what decides the rate one process
can carry; so are the fake provider's and the bench database's PostgreSQL backends' (read from /proc, so only
with a local server), as all of them share this machine's cores. Both paths use the same SDK client (`provider.client.make_sdk`: aiohttp
transport, no SDK spans) on a uvloop event loop, the loop the service runs on (uvicorn picks uvloop).

FAIRWAY_BENCH_PROCESSES (default 1): the gateway is stateless apart from PostgreSQL and scales out by replicas.
With N > 1 the offered rate is split over N processes (each a `Replica`: its own Gateway, pools and SDK client,
as N service replicas would have), which start each phase at the same wall-clock instant; the figures are over
all their requests together. Direct calls are split the same way, so both paths get the same processes. Still
one run at the offered rate, but say which N a figure was taken with.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import asyncpg
import uvloop

from fairway_ai_gateway.app import MIGRATIONS
from fairway_ai_gateway.config.schemas import TenantAIConfigPatch
from fairway_ai_gateway.fake_provider.server import free_port
from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_ai_gateway.operations import OPERATIONS, Context, Prompt
from fairway_ai_gateway.provider.client import make_sdk
from fairway_ai_gateway.settings import Settings
from fairway_ai_gateway.sql import HotPool
from fairway_bench.benchkit import bench_env, percentile, report, wait_http
from fairway_chassis.db import make_engine, make_sessionmaker, migrate
from fairway_events import utcnow

RATES = [float(r) for r in os.environ.get("FAIRWAY_BENCH_RATES", "25,500").split(",")]
SECONDS = float(os.environ.get("FAIRWAY_BENCH_SECONDS", "4"))
TENANTS = int(os.environ.get("FAIRWAY_BENCH_TENANTS", "20"))  # a platform serves many clubs at once
PROCESSES = int(os.environ.get("FAIRWAY_BENCH_PROCESSES", "1"))  # gateway replicas sharing the offered rate

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


def bench_settings(db: str, url: str, bootstrap: str) -> Settings:
    return Settings(
        database_url=db,
        database_name=db.rsplit("/", 1)[1],
        kafka_bootstrap=bootstrap,
        jwt_secret="bench-" + "x" * 40,
        anthropic_api_key="bench-key",
        anthropic_base_url=url,
        log_level="WARNING",
        db_pool_size=5,
    )


class Replica:
    """One gateway process's share of the load: its Gateway (own pools, breaker, limiters) and, for the direct
    path, an SDK client configured as the gateway's is (`make_sdk`), on this process's event loop."""

    def __init__(self, settings: Settings, index: int = 0, count: int = 1) -> None:
        self.settings, self.index, self.count = settings, index, count
        self.engine = make_engine(settings.service_database_url, 5)
        self.gw = Gateway(settings)
        # as app.py does
        self.gw.bind(
            make_sessionmaker(self.engine),
            HotPool(settings.service_database_url, size=settings.hot_pool_size),
        )
        self.sdk = make_sdk(
            api_key="bench-key",
            base_url=settings.anthropic_base_url,
            timeout=settings.provider_timeout_seconds,
            tracing=settings.provider_tracing,
        )
        self.prompt: Prompt | None = None
        self.added: list[float] = []
        self.sources: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    async def start(self) -> None:
        # the prompt the gateway sends, for the direct calls
        op = OPERATIONS["content.generate"]
        async with self.gw.sessionmaker() as s:  # type: ignore[misc]
            cfg = await self.gw.configs.get(s, "bench-club-0")
        ctx = Context(
            tenant_id="bench-club-0",
            cfg=cfg,
            request=op.request_model.model_validate(content_request(0)),
            now=utcnow(),
            scrubber=self.gw.scrubber,
            guard=self.gw.guard,
            max_caller_text=1000,
        )
        self.prompt = op.prepare(ctx)
        # warm up connections, caches and code paths
        await open_loop(200, 100, self.direct)
        await open_loop(200, 100, self.through_gateway)

    async def direct(self, i: int) -> float | None:
        assert self.prompt is not None
        t0 = time.perf_counter()
        try:
            await self.sdk.messages.create(
                model="claude-haiku-4-5",
                max_tokens=self.prompt.max_tokens,
                system=self.prompt.system,
                messages=[{"role": "user", "content": self.prompt.user}],
            )
        except anthropic.APIError as exc:
            self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
            return None
        return time.perf_counter() - t0

    async def through_gateway(self, i: int) -> float:
        t0 = time.perf_counter()
        k = i * self.count + self.index  # this replica's share of the global request sequence
        tenant = f"bench-club-{k % TENANTS}"
        result, out = await self.gw.run_detailed(tenant, "content.generate", content_request(k))
        total = time.perf_counter() - t0
        self.added.append(total - out.provider_seconds)
        self.sources[result["source"]] = self.sources.get(result["source"], 0) + 1
        return total

    async def phase(self, kind: str, rate: float, n: int, at: float) -> dict[str, Any]:
        """n requests at `rate`/s, open loop, from wall-clock time `at` (so replicas start together)."""
        self.added, self.sources, self.errors = [], {}, {}
        await asyncio.sleep(max(0.0, at - time.time()))
        c0 = time.process_time()
        lat, wall = await open_loop(n, rate, self.direct if kind == "direct" else self.through_gateway)
        return {
            "latency": lat,
            "added": self.added,
            "wall": wall,
            "cpu": time.process_time() - c0,
            "n": n,
            "sources": self.sources,
            "errors": self.errors,
        }

    async def close(self) -> None:
        await self.sdk.close()
        await self.gw.close()
        await self.engine.dispose()


class WorkerProcess:
    """A Replica in a process of its own (`python -m fairway_bench.ai_gateway worker`), driven by JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def spawn(cls, spec: dict[str, Any]) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fairway_bench.ai_gateway",
            "worker",
            json.dumps(spec),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**26,
        )
        return cls(proc)

    async def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bench worker died")
        return dict(json.loads(line))

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()


async def worker(spec: dict[str, Any]) -> None:
    """The worker side of WorkerProcess: warm up, say so, then run each phase it is sent."""
    replica = Replica(
        bench_settings(spec["db"], spec["url"], spec["bootstrap"]), spec["index"], spec["count"]
    )
    await replica.start()
    loop = asyncio.get_running_loop()
    print(json.dumps({"ready": True}), flush=True)
    while (line := await loop.run_in_executor(None, sys.stdin.readline)) and (msg := json.loads(line)):
        if msg.get("quit"):
            break
        print(json.dumps(await replica.phase(msg["kind"], msg["rate"], msg["n"], msg["at"])), flush=True)
    await replica.close()


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of these local processes so far (None when /proc does not show them all)."""
    total = 0.0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


async def backends(server_url: str, db_url: str) -> list[int]:
    """The PostgreSQL backends serving the bench database (a local server: their CPU is this machine's)."""
    conn = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", db_url.rsplit("/", 1)[1]
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "latency": [],
        "added": [],
        "wall": 0.0,
        "cpu": 0.0,
        "n": 0,
        "sources": {},
        "errors": {},
    }
    for p in parts:
        out["latency"] += p["latency"]
        out["added"] += p["added"]
        out["wall"] = max(out["wall"], p["wall"])
        out["cpu"] += p["cpu"]
        out["n"] += p["n"]
        for key in ("sources", "errors"):
            for k, v in p[key].items():
                out[key][k] = out[key].get(k, 0) + v
    return out


async def main() -> None:
    port = free_port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fairway_ai_gateway.fake_provider", "--port", str(port)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{url}/_fake/health")
        async with bench_env() as env:
            db = await env.fresh_database("aigw")
            await migrate(MIGRATIONS, db)
            settings = bench_settings(db, url, env.bootstrap)
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
            local: Replica | None = None
            workers: list[WorkerProcess] = []
            try:
                local = Replica(settings)
                for t in range(TENANTS):
                    async with local.gw.sessionmaker() as s, s.begin():  # type: ignore[misc]
                        await local.gw.configs.update(s, f"bench-club-{t}", limits, "bench")
                if PROCESSES > 1:
                    await local.close()
                    local = None
                    spec = {"db": db, "url": url, "bootstrap": env.bootstrap, "count": PROCESSES}
                    workers = [await WorkerProcess.spawn({**spec, "index": w}) for w in range(PROCESSES)]
                    for w in workers:
                        await w.receive()  # ready: warmed up
                else:
                    await local.start()

                async def phase(kind: str, rate: float, n: int) -> dict[str, Any]:
                    at = time.time() + 0.5
                    pids = {"provider": [fake.pid], "postgres": await backends(env.pg_server_url, db)}
                    before = {k: cpu_seconds(v) for k, v in pids.items()}
                    if local is not None:
                        got = await local.phase(kind, rate, n, at)
                    else:
                        share = [n // PROCESSES + (1 if w < n % PROCESSES else 0) for w in range(PROCESSES)]
                        for w, part in zip(workers, share, strict=True):
                            await w.send({"kind": kind, "rate": rate / PROCESSES, "n": part, "at": at})
                        got = merge([await w.receive() for w in workers])
                    for name, v in pids.items():
                        b, a = before[name], cpu_seconds(v)
                        got[f"cpu_{name}"] = None if a is None or b is None else a - b
                    return got

                await report_rates(phase)
            finally:
                for w in workers:
                    await w.send({"quit": True})
                    await w.proc.wait()
                if local is not None:
                    await local.close()
    finally:
        fake.terminate()
        await fake.wait()


async def report_rates(phase: Callable[[str, float, int], Awaitable[dict[str, Any]]]) -> None:
    ms = 1000
    where = f"{PROCESSES} gateway processes" if PROCESSES > 1 else "one process"
    for rate in RATES:
        n = int(rate * SECONDS)
        d = await phase("direct", rate, n)
        g = await phase("gateway", rate, n)
        label = f"ai-gateway @{rate:g}/s"
        print(
            f"# {n} requests per phase at {rate:g}/s offered, {TENANTS} tenants, {where}, "
            f"{type(asyncio.get_running_loop()).__module__.split('.')[0]} loop; gateway answers by source: "
            f"{g['sources']}; direct call errors: {d['errors'] or 'none'}"
        )
        report(f"{label} direct achieved rate", n / d["wall"], "req/s", f"{rate:g}")
        report(f"{label} gateway achieved rate", n / g["wall"], "req/s", f"{rate:g}")
        report(f"{label} direct p50", percentile(d["latency"], 50) * ms, "ms")
        report(f"{label} direct p99", percentile(d["latency"], 99) * ms, "ms")
        report(f"{label} gateway p50", percentile(g["latency"], 50) * ms, "ms")
        report(f"{label} gateway p99", percentile(g["latency"], 99) * ms, "ms")
        report(f"{label} added p50", percentile(g["added"], 50) * ms, "ms")
        report(f"{label} added p99", percentile(g["added"], 99) * ms, "ms", "< 5 ms" if rate == 500 else None)
        report(f"{label} CPU per request, direct", d["cpu"] / n * ms, "ms")
        report(f"{label} CPU per request, gateway", g["cpu"] / n * ms, "ms")
        for other in (
            "provider",
            "postgres",
        ):  # the rest of the machine's work per request (None: unreadable)
            if d[f"cpu_{other}"] is not None and g[f"cpu_{other}"] is not None:
                for path, got in (("direct", d), ("gateway", g)):
                    report(
                        f"{label} CPU per request, {other} process, {path}",
                        got[f"cpu_{other}"] / n * ms,
                        "ms",
                    )


if __name__ == "__main__":
    # uvloop, as the service runs (uvicorn picks it when installed); both paths share this loop.
    if sys.argv[1:2] == ["worker"]:
        uvloop.run(worker(json.loads(sys.argv[2])))
    else:
        uvloop.run(main())
