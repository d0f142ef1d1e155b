"""Each profile's current counters on the compacted `crm.timeline.state` topic (a tombstone when erased)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairway_events.contracts.state import CountersState
from fairway_events.state_topics import StateSource


def snapshot(row: Mapping[str, Any]) -> CountersState:
    return CountersState.model_validate({**row["counters"], "profileId": row["_key"], "asOf": row["as_of"]})


COUNTERS_STATE = StateSource(topic="crm.timeline.state", table="profile_counters", key="profile_id",
                             columns="counters, as_of", build=snapshot, source="timeline", deletes=True)
