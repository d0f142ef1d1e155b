"""The faults: each injects one failure into the running platform and repairs it, as an operator (or the
platform's supervisor) would; what follows is the platform's own business."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from fairway_localinfra import EmbeddedPostgres, start_tansu
from fairway_testkit.platform import SERVICE_PORTS, Platform

from .conftest import FAKE_AI_PORT, Club
from .load import Load


@dataclass
class Injected:
    """What a fault did: when the platform was whole again (monotonic) and notes for the report."""

    repaired_at: float = 0.0
    notes: list[str] = field(default_factory=list)


Fault = Callable[[Platform, Club, Load], Awaitable[Injected]]


def _kill(platform: Platform, name: str) -> None:
    pid = platform.pid(name)
    assert pid, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)  # its own session: the process and anything it started
    for _ in range(100):
        if platform.pid(name) is None:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} survived SIGKILL")


def kill_service(service: str) -> Fault:
    async def fault(platform: Platform, club: Club, load: Load) -> Injected:
        _kill(platform, service)
        await asyncio.sleep(2)
        restarted = time.monotonic()
        # `platform up` again starts what is not running (as a supervisor restarting a crashed process would).
        started = await asyncio.to_thread(platform.up, "--no-demo")
        assert started.returncode == 0, f"{service} did not come back:\n{started.stdout}\n{started.stderr}"
        return Injected(repaired_at=restarted)

    return fault


async def restart_broker(platform: Platform, club: Club, load: Load) -> Injected:
    """Tansu forgets every topic, message and offset. Only the broker is restarted: the services must recreate the
    topics and reconnect by themselves; `fairway reannounce` restores the state topics, and the upstream replays
    what it had sent (a real upstream's broker would not have lost it)."""
    _kill(platform, "tansu")
    await asyncio.sleep(3)
    port = int(platform.env["FAIRWAY_KAFKA_PORT"])
    proc = start_tansu(port, platform.run_dir / "logs" / "tansu.log")
    (platform.run_dir / "pids" / "tansu.pid").write_text(str(proc.pid))
    repaired = time.monotonic()
    notes = []
    await wait_ready(platform, timeout=300)
    out = await asyncio.to_thread(platform.cli, "reannounce", "--tenant", club.tenant, timeout=600)
    notes.append(out.strip().splitlines()[-1] if out.strip() else "reannounced")
    notes.append(f"upstream replayed {await load.resend()} events")
    return Injected(repaired_at=repaired, notes=notes)


def stop_postgres(seconds: float) -> Fault:
    async def fault(platform: Platform, club: Club, load: Load) -> Injected:
        pg = EmbeddedPostgres(platform.run_dir / "pg", int(platform.env["FAIRWAY_PG_PORT"]))
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(pg.start)
        return Injected(repaired_at=time.monotonic())

    return fault


def slow_ai(seconds: float, calls: int = 4) -> Fault:
    """Every provider call answers after `seconds`; meanwhile marketers ask for AI segments. Each is answered (by
    the fallback or a timeout, never a 5xx other than the documented 502/503/504), and nothing else slows."""

    async def fault(platform: Platform, club: Club, load: Load) -> Injected:
        fake = f"http://127.0.0.1:{platform.port(FAKE_AI_PORT)}"
        headers = {"Authorization": f"Bearer {platform.token(club.tenant, 'marketer')}"}
        async with httpx.AsyncClient(timeout=180, headers=headers) as http:
            (await http.post(f"{fake}/_fake/script", json={"kind": "default", "delay": seconds, "times": -1})
             ).raise_for_status()
            before = len((await http.get(f"{fake}/_fake/requests")).json())

            async def ask(i: int) -> tuple[int, str, float]:
                t0 = time.monotonic()
                r = await http.post(f"{platform.url('segmentation')}/api/v1/segments/nl",
                                    json={"query": f"gold members who booked in the last {i + 5} days"})
                source = r.json().get("source", r.json().get("error", "?")) if r.content else "?"
                return r.status_code, str(source), time.monotonic() - t0

            answers = await asyncio.gather(*(ask(i) for i in range(calls)))
            reached = len((await http.get(f"{fake}/_fake/requests")).json()) - before
            (await http.post(f"{fake}/_fake/reset")).raise_for_status()
        assert all(s in (200, 502, 503, 504) for s, _, _ in answers), answers
        assert reached > 0, "the slow provider was never called: the scenario tested nothing"
        return Injected(repaired_at=time.monotonic(), notes=[
            f"{calls} AI segment requests, provider reached {reached}x: "
            + ", ".join(f"{s} {src} {t:.0f}s" for s, src, t in answers)])

    return fault


async def wait_ready(platform: Platform, timeout: float = 300) -> float:
    """Until every service's /readyz is 200 (database, broker and every consumer moving); the seconds it took."""
    t0 = time.monotonic()
    async with httpx.AsyncClient(timeout=3) as http:
        while True:
            bad = []
            for s in SERVICE_PORTS:
                try:
                    r = await http.get(f"{platform.url(s)}/readyz")
                    if r.status_code != 200:
                        bad.append(f"{s}: {r.text[:300]}")
                except httpx.HTTPError as exc:
                    bad.append(f"{s}: {type(exc).__name__}")
            if not bad:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"not ready after {timeout:g}s: {bad}")
            await asyncio.sleep(1)
