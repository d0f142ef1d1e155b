"""Background work that runs every N seconds inside a service (sweeps, maintenance, model watching).

Durable, scheduled business work (sends, timers, publishing) belongs on procrastinate instead; this is for
housekeeping that may simply run again next round.

    ServiceDefinition(..., background=[periodic("counter-sweep", 60, sweep)])      # sweep(runtime) -> Awaitable
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

log = structlog.get_logger("fairway.periodic")


class Ticker(Protocol):
    """Monotonic time and sleeping: the event loop's, or a test's own (so the grid is checked exactly, whatever
    else the machine is doing)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopTicker:
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def run_every(
    name: str, interval: float, work: Callable[[], Awaitable[Any]], *, run_at_start: bool = False,
    ticker: Ticker | None = None,
) -> None:
    """Call `work` every `interval` seconds until cancelled.

    Rounds keep to a fixed grid (start + k * interval), so the period does not drift by the work's own duration;
    a round that overruns skips the ticks it missed rather than running them back to back. A failing round is
    logged and the next one runs as planned (the database may be away for a moment). Cancellation propagates at
    once, also from inside `work`.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    clock = ticker or LoopTicker()
    next_at = clock.now() + (0 if run_at_start else interval)
    while True:
        await clock.sleep(max(0.0, next_at - clock.now()))
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic work failed", job=name)
        now = clock.now()
        next_at += interval
        if next_at <= now:  # overran: the next tick on the grid that is still ahead
            next_at += ((now - next_at) // interval + 1) * interval


def periodic(
    name: str,
    interval: float | Callable[[Any], float],
    work: Callable[[Any], Awaitable[Any]],
    *,
    run_at_start: bool = False,
) -> Callable[[Any], Awaitable[None]]:
    """A `ServiceDefinition.background` hook running `work(runtime)` every `interval` seconds (a number, or a
    function of the runtime, e.g. `lambda rt: rt.settings.sweep_interval_seconds`)."""

    async def hook(runtime: Any) -> None:
        seconds = interval(runtime) if callable(interval) else interval
        await run_every(name, seconds, lambda: work(runtime), run_at_start=run_at_start)

    hook.__name__ = f"periodic_{name}"
    return hook
