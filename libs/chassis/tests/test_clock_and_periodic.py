"""The one clock (system and manual) and the one periodic-loop helper."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fairway_chassis import Clock, ManualClock, SystemClock, periodic, run_every


def test_clocks() -> None:
    start = datetime(2025, 6, 1, 23, 59, tzinfo=UTC)
    clock: Clock = ManualClock(start)
    assert clock.now() == start
    assert clock.advance(minutes=2) == start + timedelta(minutes=2)
    assert clock.advance(timedelta(days=1)) == start + timedelta(days=1, minutes=2)
    clock.set(start)
    assert clock.now() == start
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2025, 6, 1))
    before = datetime.now(UTC)
    assert before <= SystemClock().now() <= datetime.now(UTC)


async def test_runs_on_a_fixed_grid_survives_errors_and_cancels_cleanly() -> None:
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def work() -> None:
        starts.append(loop.time())
        if len(starts) == 2:
            raise RuntimeError("database away for a moment")
        await asyncio.sleep(0.03)  # the work's own duration must not push later rounds back

    t0 = loop.time()
    task = asyncio.create_task(run_every("test", 0.1, work, run_at_start=True))
    await asyncio.sleep(0.55)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # 0, .1 (fails), then on: every round starts on the grid (logging the failure may overrun one tick)
    assert len(starts) >= 5, starts
    ticks = [(at - t0) / 0.1 for at in starts]
    assert all(abs(t - round(t)) < 0.4 for t in ticks), ticks
    assert round(ticks[-1]) == 5 and len(set(map(round, ticks))) == len(ticks)


async def test_an_overrunning_round_skips_missed_ticks_and_cancel_reaches_inside_work() -> None:
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    inside = asyncio.Event()

    async def slow() -> None:
        starts.append(loop.time())
        inside.set()
        await asyncio.sleep(0.25 if len(starts) == 1 else 10)

    t0 = loop.time()
    task = asyncio.create_task(run_every("slow", 0.1, slow))
    await asyncio.sleep(0.45)
    assert len(starts) == 2 and abs(starts[1] - t0 - 0.4) < 0.05  # ticks .2 and .3 were skipped, not queued
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_periodic_hook_reads_its_interval_from_the_runtime() -> None:
    class Rt:
        interval = 0.05
        seen: list[object] = []

    async def work(runtime: Rt) -> None:
        runtime.seen.append(runtime)

    hook = periodic("sweep", lambda rt: rt.interval, work)
    rt = Rt()
    task = asyncio.create_task(hook(rt))
    await asyncio.sleep(0.12)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rt.seen == [rt, rt]  # not at start: first after one interval
