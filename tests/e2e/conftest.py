"""The whole platform, started as a user starts it (`fairway platform up`, i.e. `make up`), on its own ports and
its own run folder, so it never disturbs a developer's running platform (fairway_testkit.platform)."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fairway_testkit.platform import Platform, running_platform

__all__ = ["Platform"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The first test also waits for the whole platform to start (eight services, MLflow, the demo club).
    for item in items:
        item.add_marker(pytest.mark.timeout(900))


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    run_dir = tmp_path_factory.mktemp("platform")
    if os.environ.get("FAIRWAY_E2E_EXTERNAL") == "1":
        # A platform someone else started (`make compose-test`): services on their usual ports, the broker and
        # the JWT secret from the environment.
        yield Platform(env=dict(os.environ), port_offset=0, run_dir=run_dir)
        return
    with running_platform(run_dir, "--members", "40") as p:
        yield p
