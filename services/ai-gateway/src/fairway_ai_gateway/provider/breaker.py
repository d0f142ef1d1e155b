"""Circuit breaker per provider and model: CLOSED -> OPEN after `failure_threshold` consecutive failures;
OPEN refuses calls for `open_seconds`; then HALF_OPEN lets `half_open_probes` calls through at a time; a probe's
success (`success_threshold` of them) closes the circuit, a probe's failure opens it again.

Why not purgatory or aiobreaker: neither bounds the calls let through while half-open (purgatory lets every
concurrent call probe a provider that may still be down), neither has the spec's success threshold, and
neither takes a clock, which the tests need. This is the spec's state machine (section 12.2) with those added.
State is per process: each replica learns a provider's health from its own calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class Transition:
    circuit: str
    old: State
    new: State
    consecutive_failures: int


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        success_threshold: int,
        open_seconds: float,
        half_open_probes: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.success_threshold = success_threshold
        self.open_seconds = open_seconds
        self.half_open_probes = half_open_probes
        self.clock = clock
        self.state = State.CLOSED
        self.failures = 0
        self.successes = 0
        self.probes = 0
        self.opened_at = 0.0

    def _move(self, new: State) -> Transition:
        t = Transition(self.name, self.state, new, self.failures)
        self.state = new
        if new is State.OPEN:
            self.opened_at = self.clock()
            self.probes = 0
        elif new is State.HALF_OPEN:
            self.probes = 0
            self.successes = 0
        else:
            self.failures = 0
            self.successes = 0
            self.probes = 0
        return t

    def available(self) -> bool:
        """Would a call be let through now (without taking a probe slot)?"""
        if self.state is State.CLOSED:
            return True
        if self.state is State.OPEN:
            return self.clock() >= self.opened_at + self.open_seconds
        return self.probes < self.half_open_probes

    def allow(self) -> tuple[bool, list[Transition]]:
        """Ask to make a call. In HALF_OPEN an allowed call holds a probe slot until its success/failure/release."""
        moves: list[Transition] = []
        if self.state is State.OPEN:
            if self.clock() < self.opened_at + self.open_seconds:
                return False, moves
            moves.append(self._move(State.HALF_OPEN))
        if self.state is State.HALF_OPEN:
            if self.probes >= self.half_open_probes:
                return False, moves
            self.probes += 1
        return True, moves

    def success(self) -> list[Transition]:
        if self.state is State.CLOSED:
            self.failures = 0
            return []
        if self.state is State.HALF_OPEN:
            self.probes = max(0, self.probes - 1)
            self.successes += 1
            if self.successes >= self.success_threshold:
                return [self._move(State.CLOSED)]
        return []  # OPEN: a call from before the circuit opened finished late; it proves little

    def failure(self) -> list[Transition]:
        if self.state is State.CLOSED:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                return [self._move(State.OPEN)]
            return []
        if self.state is State.HALF_OPEN:
            self.failures += 1
            return [self._move(State.OPEN)]
        return []

    def release(self) -> None:
        """A call allowed in HALF_OPEN that was never made gives its probe slot back."""
        if self.state is State.HALF_OPEN:
            self.probes = max(0, self.probes - 1)


class Breakers:
    def __init__(
        self,
        *,
        failure_threshold: int,
        success_threshold: int,
        open_seconds: float,
        half_open_probes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kw = {
            "failure_threshold": failure_threshold,
            "success_threshold": success_threshold,
            "open_seconds": open_seconds,
            "half_open_probes": half_open_probes,
            "clock": clock,
        }
        self._by_name: dict[str, CircuitBreaker] = {}

    def get(self, provider: str, model: str) -> CircuitBreaker:
        name = f"{provider}:{model}"
        b = self._by_name.get(name)
        if b is None:
            b = self._by_name[name] = CircuitBreaker(name, **self._kw)  # type: ignore[arg-type]
        return b

    def states(self) -> dict[str, str]:
        return {name: b.state.value for name, b in self._by_name.items()}
