"""The fields a CONDITION (or an entry check) can name: the segment criteria catalogue, plus the member's segment
memberships, all read from this service's own read model."""
from __future__ import annotations

from fairway_schemas.criteria import STANDARD_CATALOGUE, FieldSpec, FieldType

SEGMENTS = "segments"

CATALOGUE: dict[str, FieldSpec] = {
    **STANDARD_CATALOGUE,
    SEGMENTS: FieldSpec(name=SEGMENTS, type=FieldType.array, description="Ids of the segments the member is in",
                        source="segmentation"),
}
