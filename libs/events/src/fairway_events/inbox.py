"""Inbox: `(consumer, event_id)` rows claimed in the consumer's own transaction, so effects happen once."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events.envelope import Envelope
from fairway_events.tables import INBOX

# One statement per batch whatever its size: four arrays, unnested server-side.
_CLAIM = text(
    f"INSERT INTO {INBOX} (consumer, event_id, tenant_id, event_type) "  # noqa: S608 (constant table name)
    "SELECT :consumer, e, t, y FROM unnest(:ids, :tenants, :types) AS u(e, t, y) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(
    bindparam("ids", type_=ARRAY(String)),
    bindparam("tenants", type_=ARRAY(String)),
    bindparam("types", type_=ARRAY(String)),
)


def inbox_key(e: Envelope) -> str:
    """Event ids are unique per producing system only (SCL and TeeTime may both send id 123), so the
    inbox keys on the source too."""
    return f"{e.source}:{e.event_id}"


async def claim(session: AsyncSession, consumer: str, events: Sequence[Envelope]) -> set[str]:
    """Insert inbox rows for events not seen before; return the inbox keys (`inbox_key`) this transaction owns.

    A concurrent transaction claiming the same event blocks on the primary key until the other commits or
    rolls back, so two deliveries of one event can never both take effect.
    """
    unique: dict[str, Envelope] = {}
    for e in events:
        unique.setdefault(inbox_key(e), e)
    if not unique:
        return set()
    rows = list(unique.values())
    result = await session.execute(_CLAIM, {
        "consumer": consumer,
        "ids": list(unique),
        "tenants": [e.tenant_id for e in rows],
        "types": [e.event_type for e in rows],
    })
    return set(result.scalars().all())
