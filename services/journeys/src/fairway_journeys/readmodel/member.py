"""A member as CONDITIONs, WAITs and entry checks see them: catalogue fields, segment ids, dates, time zone."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fairway_journeys.readmodel.fields import SEGMENTS

ELIGIBLE_STATUSES = ("ACTIVE", "INACTIVE")


@dataclass(frozen=True)
class Member:
    profile_id: str
    status: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    segments: tuple[str, ...] = ()
    dates: dict[str, date | None] = field(default_factory=dict)  # membershipExpiry, dateOfBirth, memberSince
    time_zone: str | None = None

    @classmethod
    def unknown(cls, profile_id: str) -> Member:
        return cls(profile_id=profile_id, status=None)

    @property
    def known(self) -> bool:
        return self.status is not None

    @property
    def eligible(self) -> bool:
        return self.status in ELIGIBLE_STATUSES

    def profile(self) -> dict[str, Any]:
        """The mapping `criteria_eval` evaluates."""
        return {**self.fields, SEGMENTS: list(self.segments)}
