"""The campaigns service's typed runtime state: what its endpoints, handlers and jobs share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fairway_chassis import Clock, SystemClock

if TYPE_CHECKING:
    from fairway_campaigns.dispatcher import Dispatcher


@dataclass
class CampaignsState:
    clock: Clock = field(default_factory=SystemClock)
    batch_size: int = 500  # recipients per fan-out transaction
    ai_timeout_seconds: float = 20.0  # content/generate's wait for the AI gateway
    dispatch: Dispatcher | None = None  # the dispatch concept's in-process door to Messaging
