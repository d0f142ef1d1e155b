"""`make bench`: the backbone's figures, then every service's benchmark, each in a process of its own.

Each benchmark is a module of this package (`python -m fairway_bench.<name>`); a service's runtime package
carries no bench code. A new service adds `fairway_bench/<service>.py` and its name below.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

BENCHES = ["backbone", "identity", "timeline", "segmentation", "ml-scoring", "ai-gateway", "segment-parser", "journeys",
           "dispatch", "campaigns", "social", "cli", "history", "backfill"]
TITLES = {"backbone": "backbone (libs/events)", "cli": "command line (fairway, fairway-ml)",
          "history": "history through the whole platform (every consumer group caught up)",
          "backfill": "legacy CRM backfill through the whole platform (every consumer group caught up)"}


def main() -> None:
    for name in BENCHES:
        module = f"fairway_bench.{name.replace('-', '_')}"
        if importlib.util.find_spec(module) is None:
            print(f"== {name}: no benchmark yet", flush=True)
            continue
        print(f"== {TITLES.get(name, name)}", flush=True)
        rc = subprocess.call([sys.executable, "-m", module])
        if rc:
            print(f"BENCH {name}: benchmark exited with code {rc}", flush=True)


if __name__ == "__main__":
    main()
