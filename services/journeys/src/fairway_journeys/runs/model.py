"""A run as the engine sees it: one member's way through one version of a journey."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACTIVE, COMPLETED, CONVERTED, EXITED = "ACTIVE", "COMPLETED", "CONVERTED", "EXITED"


@dataclass
class Run:
    id: str
    tenant_id: str
    journey_id: str
    version: int
    profile_id: str
    entry_key: str
    status: str
    step_id: str | None
    seq: int
    waiting: str | None
    step_entered_at: datetime
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    trigger: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class Due:
    """A timer that fell due: the run, the seq it was set at, and when it was due."""

    tenant_id: str
    run_id: str
    seq: int
    due_at: datetime
