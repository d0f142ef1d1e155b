from __future__ import annotations

from fairway_timeline.counters.repository import ProfileRef


class Touched:
    """Profiles whose counters a unit of work must recompute (live) or forget (gone)."""

    def __init__(self) -> None:
        self.live: set[ProfileRef] = set()
        self.gone: set[ProfileRef] = set()

    def touch(self, tenant_id: str, profile_id: str | None) -> None:
        if profile_id is not None:
            self.live.add((tenant_id, profile_id))
            self.gone.discard((tenant_id, profile_id))

    def drop(self, tenant_id: str, profile_id: str) -> None:
        self.gone.add((tenant_id, profile_id))
        self.live.discard((tenant_id, profile_id))
