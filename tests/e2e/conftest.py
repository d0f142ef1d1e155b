"""The whole platform, started as a user starts it (`fairway platform up`, i.e. `make up`), on its own ports and
its own run folder, so it never disturbs a developer's running platform."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fairway_localinfra import port_open

FAIRWAY = str(Path(sys.executable).parent / "fairway")


@dataclass
class Platform:
    env: dict[str, str]
    port_offset: int
    run_dir: Path

    def url(self, service: str) -> str:
        base = {"identity": 8001, "timeline": 8002, "segmentation": 8003, "campaigns": 8004, "journeys": 8005,
                "social": 8006, "ml-scoring": 8007, "ai-gateway": 8008}[service]
        return f"http://127.0.0.1:{base + self.port_offset}"

    def cli(self, *args: str, input: str | None = None) -> str:
        out = subprocess.run([FAIRWAY, *args], env=self.env, input=input, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"fairway {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def token(self, tenant: str, role: str = "admin") -> str:
        return self.cli("token", "--tenant", tenant, "--role", role).strip()

    def dead_letters(self, topic: str) -> list[dict]:
        return [json.loads(line) for line in self.cli("dlq", "list", "--json", "--topic", topic).splitlines() if line]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The first test also waits for the whole platform to start (eight services, MLflow, the demo club).
    for item in items:
        item.add_marker(pytest.mark.timeout(900))


def _free_offset() -> int:
    # Below the ephemeral range (32768+), so no outgoing connection can take one of these ports meanwhile.
    for _ in range(50):
        offset = random.randrange(10000, 24000, 200)
        if not any(port_open("127.0.0.1", p + offset) for p in [*range(8001, 8009), 8096, 8100, 8101, 8102]):
            return offset
    raise RuntimeError("no free block of ports")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    run_dir = tmp_path_factory.mktemp("platform")
    if os.environ.get("FAIRWAY_E2E_EXTERNAL") == "1":
        # A platform someone else started (`make compose-test`): services on their usual ports, the broker and
        # the JWT secret from the environment.
        yield Platform(env=dict(os.environ), port_offset=0, run_dir=run_dir)
        return
    env = {k: v for k, v in os.environ.items()
           if k not in {"FAIRWAY_DATABASE_URL", "FAIRWAY_KAFKA_BOOTSTRAP", "FAIRWAY_JWT_SECRET", "FAIRWAY_TOPIC_PREFIX"}}
    offset = _free_offset()
    env.update(FAIRWAY_RUN_DIR=str(run_dir), FAIRWAY_PORT_OFFSET=str(offset), FAIRWAY_KAFKA_PORT=str(8100 + offset),
               FAIRWAY_PG_PORT=str(8101 + offset), FAIRWAY_MLFLOW_PORT=str(8102 + offset))
    env["FAIRWAY_KAFKA_BOOTSTRAP"] = f"127.0.0.1:{env['FAIRWAY_KAFKA_PORT']}"  # for the CLI commands below
    up_env = {k: v for k, v in env.items() if k != "FAIRWAY_KAFKA_BOOTSTRAP"}  # `up` starts its own broker
    p = Platform(env=env, port_offset=offset, run_dir=run_dir)
    started = subprocess.run([FAIRWAY, "platform", "up", "--members", "40"], env=up_env, capture_output=True,
                             text=True, timeout=600)
    try:
        assert started.returncode == 0, f"platform up failed:\n{started.stdout}\n{started.stderr}\n" + "\n".join(
            f"--- {f.name}\n{f.read_text()[-3000:]}" for f in sorted((run_dir / "logs").glob("*.log")))
        yield p
    finally:
        subprocess.run([FAIRWAY, "platform", "down"], env=up_env, capture_output=True, timeout=120)
