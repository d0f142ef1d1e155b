"""Each current segment membership on the compacted `crm.segmentation.state` topic, keyed `segment:profile`; a
member who leaves (or a deleted segment's members) become tombstones."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairway_events.contracts.state import MembershipState
from fairway_events.state_topics import StateSource


def snapshot(row: Mapping[str, Any]) -> MembershipState:
    return MembershipState(segmentId=row["segment_id"], segmentName=row["segment_name"] or row["segment_id"],
                           profileId=row["profile_id"], since=row["added_at"])


MEMBERSHIP_STATE = StateSource(
    topic="crm.segmentation.state", table="segment_members", key="segment_id || ':' || profile_id",
    columns="segment_id, profile_id, added_at, (SELECT s.name FROM segments s WHERE s.tenant_id = "
            "segment_members.tenant_id AND s.segment_id = segment_members.segment_id) AS segment_name",
    build=snapshot, source="segmentation", deletes=True,
)
