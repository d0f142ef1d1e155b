"""The demo club's competitions as TeeTime describes them: the simulator publishes them and their entries, and the
demo marketer promotes one of them."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# name, capacity, entries before the live feed starts
COMPETITIONS = [("Club Championship", 40, 26), ("Mixed Betterball", 32, 9), ("Seniors Open", 24, 0)]


def competition(c: int, now: datetime) -> dict[str, Any]:
    """The demo club's competition `c` as TeeTime describes it (dates relative to the club's history)."""
    starts = (now + timedelta(days=10 + 14 * c)).replace(hour=8)
    return {"competitionId": f"COMP-{c}", "name": COMPETITIONS[c][0], "startsAt": starts.isoformat(),
            "entryDeadline": (starts - timedelta(days=3)).isoformat(), "format": "stableford", "entryFee": 250,
            "capacity": COMPETITIONS[c][1]}
