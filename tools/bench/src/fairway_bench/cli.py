"""`python -m fairway_bench.cli`: how long a CLI command takes to start, as a person runs it (a new process).

Each command runs N times; the figures are the median wall time and the median CPU time of the process (the CPU
time is what a busy machine cannot inflate). `fairway token` includes its own work (signing); the `--help`
commands are the start alone. Target: every `fairway` and `fairway-ml` command reaches its work in < 0.5 s.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fairway_bench.benchkit import report

N = int(os.environ.get("FAIRWAY_BENCH_CLI_RUNS", "7"))
BIN = Path(sys.executable).parent
COMMANDS = [
    ["fairway", "token", "--tenant", "stonehaven"],
    ["fairway", "topics", "list"],
    ["fairway", "dlq", "list", "--help"],
    ["fairway-ml", "train", "--help"],
]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(BIN / cmd[0]), *cmd[1:]], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    with tempfile.TemporaryDirectory() as run_dir:
        (Path(run_dir) / "jwt_secret").write_text("stonehaven-bench-secret-0123456789abcdef0123456789")
        env = {k: v for k, v in os.environ.items() if k != "FAIRWAY_JWT_SECRET"} | {"FAIRWAY_RUN_DIR": run_dir}
        for cmd in COMMANDS:
            runs = [run(cmd, env) for _ in range(N)]
            name = "cli." + "_".join(c.strip("-") for c in cmd).replace("-", "_")
            report(f"{name} wall", statistics.median(w for w, _ in runs) * 1000, "ms", "< 500 ms")
            report(f"{name} cpu", statistics.median(c for _, c in runs) * 1000, "ms")


if __name__ == "__main__":
    main()
