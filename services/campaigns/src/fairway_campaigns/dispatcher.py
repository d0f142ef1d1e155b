"""What the fan-out needs from the dispatch concept: the audience (segment memberships from its read models), the
recipients' time zones, and the one door to Messaging (`submit_many`, in the caller's transaction)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events.contracts.dispatch import DispatchRequested


@dataclass(frozen=True)
class Submitted:
    request_id: str
    outcome: str  # dispatch's Outcome
    reason: str | None


class Dispatcher(Protocol):
    def audience(self, tenant_id: str, segment_id: str, exclusions: Sequence[str]) -> Select:
        """Profile ids (one column) of the segment's current members not in any exclusion segment."""
        ...

    async def time_zones(self, session: AsyncSession, tenant_id: str, profile_ids: Sequence[str]
                         ) -> dict[str, str]: ...

    async def submit_many(self, session: AsyncSession, tenant_id: str, requests: Sequence[DispatchRequested],
                          now: datetime) -> Sequence[Submitted]:
        """Apply the policy and write ledger and send requests in the caller's transaction; one result per
        request, in order. A request id already in the ledger returns its recorded outcome and sends nothing."""
        ...

    async def outcome_counts(self, session: AsyncSession, tenant_id: str, kind: str, source_id: str
                             ) -> Sequence[Any]:
        """Recorded outcomes of a source's requests: rows with variant (the step id), channel, outcome, reason,
        count."""
        ...

    async def cancel_source(self, session: AsyncSession, tenant_id: str, kind: str, source_id: str,
                            now: datetime) -> int:
        """Withdraw the source's messages dispatch still holds (quiet hours, best time)."""
        ...
