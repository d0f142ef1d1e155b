"""Inbox: `(consumer, event_id)` rows claimed in the consumer's own transaction, so effects happen once."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events.envelope import Envelope
from fairway_events.tables import event_tables

_, inbox_table = event_tables(MetaData())


async def claim(session: AsyncSession, consumer: str, events: Sequence[Envelope]) -> set[str]:
    """Insert inbox rows for events not seen before; return the ids this transaction now owns.

    A concurrent transaction claiming the same id blocks on the primary key until the other commits or
    rolls back, so two deliveries of one event can never both take effect.
    """
    if not events:
        return set()
    rows, seen = [], set()
    for e in events:
        if e.event_id not in seen:
            seen.add(e.event_id)
            rows.append({"consumer": consumer, "event_id": e.event_id, "tenant_id": e.tenant_id,
                         "event_type": e.event_type})
    stmt = insert(inbox_table).values(rows).on_conflict_do_nothing().returning(inbox_table.c.event_id)
    return set((await session.execute(stmt)).scalars().all())
