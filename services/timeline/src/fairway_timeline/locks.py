"""One writer per tenant at a time.

Every write of the timeline (a consumer batch, a note, a window sweep) first takes a transaction-scoped
advisory lock on each tenant it touches, in sorted order. That closes every race between concurrent
transactions at once: an upstream event parking as pending while the identity event that would attach it
commits, two batches recomputing one profile's counters, an erasure racing a late event. A golf club's event
rate is small, so serialising a tenant's writes costs little; reads never take the lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_NAMESPACE = 0x74696D65  # "time": keeps these locks apart from other users of pg advisory locks


async def lock_tenants(session: AsyncSession, tenant_ids: Iterable[str]) -> None:
    ordered = sorted(set(tenant_ids))
    if not ordered:
        return
    # unnest yields the array in order, so every transaction takes its locks in the same order (no deadlock).
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(t)) FROM unnest(CAST(:tenants AS text[])) AS t"),
        {"ns": _NAMESPACE, "tenants": ordered},
    )
