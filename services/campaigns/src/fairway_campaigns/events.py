"""Appending the service's own events (crm.campaigns) to its outbox, in the caller's transaction."""
from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import outbox, registry

SOURCE = "campaigns"


async def publish(session: AsyncSession, tenant_id: str, aggregate_id: str, *payloads: BaseModel) -> None:
    await outbox.append_many(
        session,
        [registry.envelope(p, tenant_id=tenant_id, aggregate_id=aggregate_id, source=SOURCE) for p in payloads],
    )
