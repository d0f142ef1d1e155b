"""Test helpers shared by every Fairway package: real PostgreSQL, real broker, per-test isolation."""
from fairway_testkit.helpers import (
    TEST_JWT_SECRET,
    RunningService,
    auth_headers,
    run_service,
    send_upstream,
    token,
    upstream_event,
    wait_for,
)

__all__ = ["TEST_JWT_SECRET", "RunningService", "auth_headers", "run_service", "send_upstream", "token", "upstream_event", "wait_for"]
