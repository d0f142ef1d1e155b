"""Stored segments as the API shows them."""

from __future__ import annotations

from collections.abc import Sequence

from fairway_segmentation.segments import schemas
from fairway_segmentation.segments.repository import Segment, SizePoint


def to_out(row: Segment, history: Sequence[SizePoint] | None = None) -> schemas.SegmentOut:
    return schemas.SegmentOut(
        id=row.segment_id,
        name=row.name,
        description=row.description,
        type=row.type,
        criteria=row.criteria,
        active=row.active,
        syncToMessaging=row.sync_to_messaging,
        memberCount=row.member_count,
        timeSensitivity=row.time_sensitivity,
        lastRefreshedAt=row.last_refreshed_at,
        lastSyncedAt=row.last_synced_at,
        createdBy=row.created_by,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
        sizeHistory=None
        if history is None
        else [
            schemas.SizePoint(
                at=h.at,
                memberCount=h.member_count,
                entered=h.entered,
                exited=h.exited,
                reason=h.reason,
            )
            for h in history
        ],
    )
