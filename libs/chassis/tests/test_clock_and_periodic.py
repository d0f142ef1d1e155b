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


class FakeTicker:
    """Time that moves only when a sleep asks it to: the loop's grid is checked exactly, not within a tolerance
    that a busy machine breaks."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)  # let the other tasks run, as a real sleep would


async def _run_until(task: asyncio.Task, ticker: FakeTicker, until: float) -> None:
    while ticker.t < until and not task.done():  # noqa: ASYNC110 (yielding to the loop is the point)
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_runs_on_a_fixed_grid_survives_errors_and_cancels_cleanly() -> None:
    ticker = FakeTicker()
    starts: list[float] = []

    async def work() -> None:
        starts.append(ticker.now())
        if len(starts) == 2:
            raise RuntimeError("database away for a moment")
        await ticker.sleep(0.03)  # the work's own duration must not push later rounds back

    task = asyncio.create_task(run_every("test", 0.1, work, run_at_start=True, ticker=ticker))
    await _run_until(task, ticker, 0.55)
    # 0, .1 (fails), then on: every round starts on the grid, the failure included
    assert [round(s, 6) for s in starts] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]


async def test_an_overrunning_round_skips_missed_ticks_and_cancel_reaches_inside_work() -> None:
    ticker = FakeTicker()
    starts: list[float] = []
    inside = asyncio.Event()

    async def slow() -> None:
        starts.append(ticker.now())
        inside.set()
        await ticker.sleep(0.25 if len(starts) == 1 else 10)

    task = asyncio.create_task(run_every("slow", 0.1, slow, ticker=ticker))
    await _run_until(task, ticker, 0.45)
    assert [round(s, 6) for s in starts] == [0.1, 0.4]  # ticks .2 and .3 were skipped, not queued
    assert inside.is_set()


async def test_the_event_loop_ticker_really_waits() -> None:
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    two = asyncio.Event()

    async def work() -> None:
        starts.append(loop.time())
        if len(starts) == 2:
            two.set()

    t0 = loop.time()
    task = asyncio.create_task(run_every("real", 0.05, work))
    await asyncio.wait_for(two.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert starts[0] - t0 >= 0.05 - 1e-3 and starts[1] - t0 >= 0.1 - 1e-3  # on the grid, never early


async def test_periodic_hook_reads_its_interval_from_the_runtime() -> None:
    class Rt:
        interval = 0.05
        seen: list[object] = []

    two = asyncio.Event()

    async def work(runtime: Rt) -> None:
        runtime.seen.append(runtime)
        if len(runtime.seen) == 2:
            two.set()

    hook = periodic("sweep", lambda rt: rt.interval, work)
    rt = Rt()
    task = asyncio.create_task(hook(rt))
    await asyncio.wait_for(two.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rt.seen == [rt, rt]  # each round gets the runtime
