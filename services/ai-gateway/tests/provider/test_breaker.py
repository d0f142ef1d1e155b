from fairway_ai_gateway.provider.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_opens_after_threshold_half_opens_after_the_wait_and_closes_on_probe_success() -> None:
    clock = Clock()
    b = CircuitBreaker(
        "anthropic:m",
        failure_threshold=3,
        success_threshold=2,
        open_seconds=30,
        half_open_probes=1,
        clock=clock,
    )
    assert b.failure() == [] and b.failure() == []
    b.success()  # a success resets the count: failures must be consecutive
    assert b.failure() == [] and b.failure() == []
    [t] = b.failure()
    assert (t.old, t.new, t.consecutive_failures) == (State.CLOSED, State.OPEN, 3)
    assert b.allow() == (False, [])
    clock.t += 29
    assert not b.available()
    clock.t += 2
    allowed, moves = b.allow()
    assert allowed and [m.new for m in moves] == [State.HALF_OPEN]
    assert b.allow() == (False, [])  # one probe at a time
    assert b.success() == []  # success threshold is 2
    assert b.state is State.HALF_OPEN
    allowed, _ = b.allow()
    assert allowed
    [t] = b.success()
    assert t.new is State.CLOSED and b.state is State.CLOSED and b.failures == 0


def test_a_failed_probe_opens_the_circuit_again_and_an_unused_probe_is_given_back() -> None:
    clock = Clock()
    b = CircuitBreaker("anthropic:m", failure_threshold=1, success_threshold=1, open_seconds=10, clock=clock)
    b.failure()
    clock.t += 11
    assert b.allow()[0]
    b.release()  # the call was never made (budget refused it)
    assert b.allow()[0]
    [t] = b.failure()
    assert (t.old, t.new) == (State.HALF_OPEN, State.OPEN)
    assert not b.allow()[0]
    clock.t += 11
    assert b.allow()[0]
    assert [t.new for t in b.success()] == [State.CLOSED]
