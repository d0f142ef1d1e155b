"""The budget periods of a tenant: its local day, hour and month (caps and alerts follow the club's clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Periods:
    day: str  # 2025-06-01
    hour: str  # 2025-06-01T13
    month: str  # 2025-06
    end_of_day: datetime  # aware, the tenant's next midnight


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def periods_at(now: datetime, timezone: str) -> Periods:
    local = now.astimezone(_zone(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    next_midnight = (midnight + timedelta(days=1, hours=3)).replace(hour=0)  # safe across DST changes
    return Periods(
        day=local.strftime("%Y-%m-%d"),
        hour=local.strftime("%Y-%m-%dT%H"),
        month=local.strftime("%Y-%m"),
        end_of_day=next_midnight,
    )
