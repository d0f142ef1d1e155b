"""The chaos suite's report: per scenario the events sent, applied, dead-lettered, the recovery time and what was
lost or duplicated; printed at the end of the run (conftest) and after each scenario."""
from __future__ import annotations

from dataclasses import dataclass

from .holdings import Holdings


@dataclass
class Report:
    scenario: str
    sent: int
    applied: int
    dead_lettered: int
    recovery: float
    settled: float
    holdings: Holdings
    notes: list[str]


REPORTS: list[Report] = []


def report_table() -> str:
    head = (f"{'scenario':24} {'sent':>6} {'applied':>8} {'dlq':>5} {'recovery s':>11} {'settled s':>10} "
            f"{'lost':>5} {'dup':>5}")
    lines = [head, "-" * len(head)]
    for r in REPORTS:
        lines.append(f"{r.scenario:24} {r.sent:6} {r.applied:8} {r.dead_lettered:5} {r.recovery:11.1f} "
                     f"{r.settled:10.1f} {r.holdings.lost:5} {r.holdings.duplicated:5}")
        lines.append(f"    {r.holdings.summary()}")
        lines += [f"    {n}" for n in r.notes]
    return "\n".join(lines)
