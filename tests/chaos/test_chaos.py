"""Fault injection, with counts: under a steady upstream load, one fault at a time, then what every service holds
is compared with what was sent. Target: 0 lost, 0 duplicated effects in every scenario.

`pytest tests/chaos` (in `make test`) runs a short version: fewer scenarios, less load. FAIRWAY_CHAOS=full
(`make chaos`) runs every scenario: SIGKILL of each service, a broker restart, PostgreSQL stopped for 30 s and the
AI provider slowed to 30 s per call.
"""
from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from fairway_testkit.platform import SERVICE_PORTS, Platform

from .conftest import Club
from .faults import Fault, kill_service, restart_broker, slow_ai, stop_postgres, wait_ready
from .holdings import Holdings, holdings
from .load import Load
from .report import REPORTS, Report, report_table

FULL = os.environ.get("FAIRWAY_CHAOS") == "full"
SCENARIOS: dict[str, Fault] = {
    "broker restart": restart_broker,
    "postgres down 30s": stop_postgres(30),
    "ai provider 30s/call": slow_ai(30),
    **{f"kill {s}": kill_service(s) for s in SERVICE_PORTS},
}
SHORT = ("kill timeline", "broker restart")
RATE = 20.0 if FULL else 10.0  # upstream events per second
LOAD_SECONDS = 60.0 if FULL else 25.0
FAULT_AT = 0.3  # of the load's duration: mid-stream
SETTLE_TIMEOUT = 420.0


def _dead_letters(platform: Platform, load: Load) -> int:
    """Dead letters of this scenario's events, over every upstream topic's DLQ."""
    count = 0
    for topic in ("scl.events", "teetime.events", "messaging.events"):
        for d in platform.dead_letters(topic):
            try:
                if json.loads(d["value"]).get("id") in load.sent:
                    count += 1
            except (ValueError, TypeError, AttributeError):
                continue
    return count


async def _settle(platform: Platform, club: Club, load: Load) -> tuple[Holdings, float]:
    """Poll what the services hold until nothing is missing (or SETTLE_TIMEOUT): the seconds it took."""
    t0 = last = time.monotonic()
    while True:
        h = await holdings(platform.port(8101), load, club.gold_segment)
        if (h.lost == 0 and h.duplicated == 0) or time.monotonic() - t0 > SETTLE_TIMEOUT:
            return h, time.monotonic() - t0
        if time.monotonic() - last > 30:
            print(f"  settling {time.monotonic() - t0:.0f}s: {h.summary()}", flush=True)
            last = time.monotonic()
        await asyncio.sleep(3)


SELECTED = [s for s in SCENARIOS if FULL or s in SHORT]


@pytest.mark.parametrize("scenario", SELECTED)
async def test_fault_loses_and_duplicates_nothing(platform: Platform, club: Club, scenario: str) -> None:
    await wait_ready(platform)
    load = Load(tenant=club.tenant, bootstrap=platform.bootstrap, scenario=scenario.replace(" ", "-"),
                rate=RATE, first_person=100_000 * list(SCENARIOS).index(scenario))
    sending = asyncio.create_task(load.run(LOAD_SECONDS))
    await asyncio.sleep(LOAD_SECONDS * FAULT_AT)
    print(f"\n{scenario}: injecting after {len(load.sent)} events", flush=True)
    injected = await SCENARIOS[scenario](platform, club, load)
    recovery = (time.monotonic() - injected.repaired_at) + await wait_ready(platform)
    print(f"{scenario}: whole again {recovery:.1f}s after the repair", flush=True)
    await sending
    h, settled = await _settle(platform, club, load)
    applied = h.tallies["identity events"].held
    REPORTS.append(Report(scenario, len(load.sent), applied, _dead_letters(platform, load), recovery, settled, h,
                          injected.notes + ([f"load retried {load.retries} sends"] if load.retries else [])))
    print(report_table())
    assert h.lost == 0 and h.duplicated == 0, f"{scenario}: {h.summary()}\n{h.problems()}"
