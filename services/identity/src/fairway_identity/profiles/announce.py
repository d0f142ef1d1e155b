"""Each profile's current snapshot on the compacted `crm.identity.state` topic, from the profile row itself.

Read models elsewhere (segmentation, timeline's and ml-scoring's key maps, campaigns, journeys) bootstrap from it:
a reader that starts late, or rebuilds, reads it from the beginning. An erased profile is a tombstone, so after
compaction no PII of it is left on the topic; a merged one names its winner.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot
from fairway_events.contracts.state import ProfileState
from fairway_events.state_topics import StateSource


def snapshot(row: Mapping[str, Any]) -> ProfileState | None:
    if row["status"] == "DELETED" or row["erased_at"] is not None:
        return None
    consent = row["consent"] or {}
    return ProfileState(
        profile=ProfileSnapshot(
            profileId=row["_key"],
            status=row["status"],
            lifecycleStage=row["lifecycle_stage"],
            identities=Identities(**(row["identities"] or {})),
            attributes=Attributes(**(row["attributes"] or {})),
            consent=Consent(**consent.get("flags", {})),
            tags=list(row["tags"] or []),
        ),
        mergedInto=row["merged_into"],
        revision=row["revision"],
        updatedAt=row["updated_at"],
    )


PROFILE_STATE = StateSource(
    topic="crm.identity.state",
    table="profile",
    key="id::text",
    columns="status, merged_into::text AS merged_into, lifecycle_stage, tags, attributes, consent, identities, "
            "revision, updated_at, erased_at",
    build=snapshot,
    source="identity",
)
