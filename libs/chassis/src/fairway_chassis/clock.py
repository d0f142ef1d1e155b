"""The service's notion of now. Rolling windows, relative dates and timers read it, so tests, benchmarks and
replays inject a clock of their own instead of waiting or patching.

    clock: Clock = SystemClock()          # production
    clock = ManualClock(datetime(2025, 6, 1, tzinfo=UTC)); clock.advance(days=30)   # tests
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests cross day boundaries without waiting)."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        self._now = _aware(value)

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """`advance(timedelta(hours=1))` or `advance(days=30)`."""
        self._now += (delta or timedelta()) + timedelta(**units)
        return self._now


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a clock needs an aware datetime")
    return value
