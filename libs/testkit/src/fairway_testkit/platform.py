"""The whole platform, started as a user starts it (`fairway platform up`, i.e. `make up`), on its own ports and
its own run folder, so it never disturbs a developer's running platform. Shared by tests/e2e and tests/chaos.

It always runs its own embedded PostgreSQL and Tansu (whatever FAIRWAY_DATABASE_URL / FAIRWAY_KAFKA_BOOTSTRAP
say), so a test may stop and restart either of them.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fairway_localinfra import port_open

FAIRWAY = str(Path(sys.executable).parent / "fairway")
SERVICE_PORTS = {"identity": 8001, "timeline": 8002, "segmentation": 8003, "campaigns": 8004, "journeys": 8005,
                 "social": 8006, "ml-scoring": 8007, "ai-gateway": 8008}
# The ports `fairway platform up` takes besides the services': social fakes, broker, PostgreSQL, MLflow (+ offset),
# and what a test adds of its own (the chaos suite's fake AI provider).
OTHER_PORTS = (8096, 8099, 8100, 8101, 8102)


@dataclass
class Platform:
    env: dict[str, str]
    port_offset: int
    run_dir: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.port_offset}"

    def port(self, base: int) -> int:
        return base + self.port_offset

    @property
    def bootstrap(self) -> str:
        return self.env["FAIRWAY_KAFKA_BOOTSTRAP"]

    @property
    def up_env(self) -> dict[str, str]:
        """The environment `fairway platform up` runs in: it starts its own broker."""
        return {k: v for k, v in self.env.items() if k != "FAIRWAY_KAFKA_BOOTSTRAP"}

    def cli(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        out = subprocess.run([FAIRWAY, *args], env=self.env, input=input, capture_output=True, text=True,
                             timeout=timeout)
        assert out.returncode == 0, f"fairway {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def up(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """`fairway platform up` (again): starts whatever is not running, leaves the rest alone."""
        return subprocess.run([FAIRWAY, "platform", "up", *args], env=self.up_env, capture_output=True, text=True,
                              timeout=timeout)

    def token(self, tenant: str, role: str = "admin") -> str:
        return self.cli("token", "--tenant", tenant, "--role", role).strip()

    def dead_letters(self, topic: str) -> list[dict]:
        return [json.loads(line) for line in self.cli("dlq", "list", "--json", "--topic", topic).splitlines() if line]

    def pid(self, name: str) -> int | None:
        """The pid of a process the platform started (a service, `tansu`, `simulators`, ...), if it runs."""
        f = self.run_dir / "pids" / f"{name}.pid"
        if not f.exists():
            return None
        pid = int(f.read_text())
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-tail:]}"
                         for f in sorted((self.run_dir / "logs").glob("*.log")))


def free_offset() -> int:
    # Below the ephemeral range (32768+), so no outgoing connection can take one of these ports meanwhile.
    for _ in range(50):
        offset = random.randrange(10000, 24000, 200)
        if not any(port_open("127.0.0.1", p + offset) for p in [*SERVICE_PORTS.values(), *OTHER_PORTS]):
            return offset
    raise RuntimeError("no free block of ports")


@contextmanager
def running_platform(run_dir: Path, *up_args: str,
                     extra_env: Callable[[int], dict[str, str]] | None = None) -> Iterator[Platform]:
    """`fairway platform up` on a free block of ports with `run_dir` as its run folder; `platform down` after.
    `extra_env(port_offset)`: more settings for the platform's processes."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"FAIRWAY_DATABASE_URL", "FAIRWAY_KAFKA_BOOTSTRAP", "FAIRWAY_JWT_SECRET", "FAIRWAY_TOPIC_PREFIX"}}
    offset = free_offset()
    env.update(FAIRWAY_RUN_DIR=str(run_dir), FAIRWAY_PORT_OFFSET=str(offset), FAIRWAY_KAFKA_PORT=str(8100 + offset),
               FAIRWAY_PG_PORT=str(8101 + offset), FAIRWAY_MLFLOW_PORT=str(8102 + offset))
    env["FAIRWAY_KAFKA_BOOTSTRAP"] = f"127.0.0.1:{env['FAIRWAY_KAFKA_PORT']}"  # for the CLI commands
    env.update(extra_env(offset) if extra_env else {})
    p = Platform(env=env, port_offset=offset, run_dir=run_dir)
    started = p.up(*up_args)
    try:
        assert started.returncode == 0, f"platform up failed:\n{started.stdout}\n{started.stderr}\n{p.logs()}"
        yield p
    finally:
        subprocess.run([FAIRWAY, "platform", "down"], env=p.up_env, capture_output=True, timeout=120)
