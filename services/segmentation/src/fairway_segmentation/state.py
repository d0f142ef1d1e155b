"""What the running segmentation service holds besides the chassis' runtime."""

from __future__ import annotations

from dataclasses import dataclass

from fairway_chassis import Clock


@dataclass
class SegmentationState:
    clock: Clock  # relative dates in criteria resolve against it, in endpoints, the consumer and the loop
