"""Send-time profiles: when a member opens messages, by hour (24) and weekday (7), with a confidence that
grows with the number of opens seen. Below the minimum confidence the profile is a pooled prior instead
(the member's segment, then the club, then all clubs), so a club of 300 members still gets useful times.

Weekdays follow the spec's JavaScript convention: 0 = Sunday ... 6 = Saturday. Hours are local to the
configured timezone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

DEFAULT_SEND_HOUR = 10  # the spec's defaultSendHour, used when nobody has opened anything yet


@dataclass
class OpenStats:
    hours: np.ndarray  # 24 counts
    days: np.ndarray  # 7 counts

    @property
    def n(self) -> int:
        return int(self.hours.sum())

    @classmethod
    def from_times(cls, times: Iterable[datetime], tz: str) -> OpenStats:
        zone = ZoneInfo(tz)
        hours = np.zeros(24)
        days = np.zeros(7)
        for t in times:
            local = t.astimezone(zone)
            hours[local.hour] += 1
            days[(local.weekday() + 1) % 7] += 1  # Python Monday=0 -> JS Sunday=0
        return cls(hours, days)


def confidence(n: int, k: float) -> float:
    """n / (n + k): k opens give 0.5."""
    return float(n / (n + k)) if n > 0 else 0.0


def distribution(counts: np.ndarray, prior: np.ndarray | None = None, weight: float = 2.0) -> np.ndarray:
    """Counts smoothed toward a prior distribution (Dirichlet with `weight` pseudo-opens)."""
    size = len(counts)
    base = prior if prior is not None and prior.sum() > 0 else np.full(size, 1.0 / size)
    smoothed = counts + weight * base / base.sum()
    return smoothed / smoothed.sum()


def default_stats() -> OpenStats:
    hours = np.zeros(24)
    hours[DEFAULT_SEND_HOUR] = 1.0
    days = np.ones(7)
    return OpenStats(hours, days)


def windows(hourly: np.ndarray, open_rate: float, width: int = 2, top: int = 3) -> list[dict[str, object]]:
    """The best non-overlapping `width`-hour windows; expectedOpenRate scales the overall open rate by how
    much of the member's opening happens in the window compared with an even spread."""
    mass = np.array([hourly[[(h + i) % 24 for i in range(width)]].sum() for h in range(24)])
    chosen: list[int] = []
    for h in np.argsort(-mass, kind="stable"):
        if all(min((h - c) % 24, (c - h) % 24) >= width for c in chosen):
            chosen.append(int(h))
        if len(chosen) == top:
            break
    out = []
    for rank, h in enumerate(chosen, start=1):
        share = float(mass[h])
        out.append(
            {
                "dayOfWeek": "ANY",
                "startHour": h,
                "endHour": (h + width) % 24,
                "openShare": round(share, 4),
                "expectedOpenRate": round(min(1.0, open_rate * share * 24 / width), 4),
                "rank": rank,
            }
        )
    return out
