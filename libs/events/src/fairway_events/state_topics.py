"""Publishing an owner's entities to its compacted state topic.

Every table whose rows others mirror gets a `state_dirty` flag that a trigger raises on every insert and update
(`add_state_flag_op` in the owner's migration). A `StatePublisher` takes flagged rows in batches, appends their
snapshots (or tombstones) to the outbox and lowers the flags in the same transaction, so each change is announced
once it committed, whichever code path made it (one profile, or a set-based SQL statement over thousands), and the
hot paths pay only the trigger. Rows locked by the publisher are skipped by a second replica (SKIP LOCKED).

Reannouncing a tenant (`fairway reannounce`: the broker lost its topics, or a new reader needs every snapshot)
raises the flag of each of its rows; the publisher does the rest, and the rows still flagged are the progress.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_events.outbox import Outbox, outbox
from fairway_events.registry import registry

FLAG = "state_dirty"
_TRIGGER_FN = (
    "CREATE OR REPLACE FUNCTION fairway_state_dirty() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    # Any change raises the flag; only the publisher's own update (which lowers it) leaves it as it set it.
    f"IF TG_OP = 'INSERT' OR NEW.{FLAG} IS NOT DISTINCT FROM OLD.{FLAG} THEN NEW.{FLAG} := true; END IF; "
    "RETURN NEW; END $$"
)


def add_state_flag_op(table: str) -> None:
    """An owner's migration: flag every row as changed (existing rows are announced once), from now on by trigger."""
    from alembic import op

    op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {FLAG} boolean NOT NULL DEFAULT true")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{FLAG} ON {table} (tenant_id) WHERE {FLAG}")
    op.execute(_TRIGGER_FN)
    op.execute(f"CREATE TRIGGER {table}_{FLAG} BEFORE INSERT OR UPDATE ON {table} "
               "FOR EACH ROW EXECUTE FUNCTION fairway_state_dirty()")


def drop_state_flag_op(table: str) -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS {table}_{FLAG} ON {table}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {FLAG}")


@dataclass(frozen=True)
class StateSource:
    """One owner's table on one state topic.

    `columns` is the SELECT list over `table` (with `tenant_id`), `key` the SQL expression of the record key, and
    `build(row)` the snapshot payload of a row, or None when the entity is gone (the record is then a tombstone).
    """

    topic: str
    table: str
    key: str
    columns: str
    build: Callable[[Any], BaseModel | None]  # a row (mapping of the selected columns) -> snapshot
    source: str


class StatePublisher:
    def __init__(self, state: StateSource, *, batch_size: int = 500, box: Outbox = outbox) -> None:
        self.state = state
        self.batch_size = batch_size
        self.outbox = box
        s = state
        self._take = text(
            f"SELECT ctid::text AS _ctid, tenant_id, {s.key} AS _key, {s.columns} FROM {s.table} "  # noqa: S608
            f"WHERE {FLAG} LIMIT :n FOR UPDATE SKIP LOCKED"
        )
        self._lower = text(f"UPDATE {s.table} SET {FLAG} = false WHERE ctid = ANY(CAST(CAST(:ctids AS text[]) AS tid[]))")  # noqa: S608
        self._raise = text(f"UPDATE {s.table} SET {FLAG} = true WHERE tenant_id = :t")  # noqa: S608
        self._pending = text(f"SELECT count(*) FROM {s.table} WHERE tenant_id = :t AND {FLAG}")  # noqa: S608

    async def publish_batch(self, session: AsyncSession) -> int:
        """Announce up to one batch of changed rows in the caller's transaction; the rows announced."""
        rows = (await session.execute(self._take, {"n": self.batch_size})).mappings().all()
        if not rows:
            return 0
        envelopes = []
        gone: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            payload = self.state.build(row)
            if payload is None:
                gone[row["tenant_id"]].append(row["_key"])
            else:
                envelopes.append(registry.envelope(payload, tenant_id=row["tenant_id"], aggregate_id=row["_key"],
                                                   source=self.state.source))
        await self.outbox.append_many(session, envelopes)
        for tenant_id, keys in gone.items():
            await self.outbox.append_tombstones(session, tenant_id, self.state.topic, keys)
        await session.execute(self._lower, {"ctids": [r["_ctid"] for r in rows]})
        return len(rows)

    async def publish_pending(self, sessionmaker: async_sessionmaker[AsyncSession], *, max_batches: int = 200) -> int:
        """Announce what changed since the last round, a transaction per batch; the rows announced."""
        total = 0
        for _ in range(max_batches):
            async with sessionmaker() as session, session.begin():
                done = await self.publish_batch(session)
            total += done
            if done < self.batch_size:
                break
        return total

    async def reannounce(self, session: AsyncSession, tenant_id: str) -> int:
        """Flag every row of a tenant to be announced again; the rows flagged."""
        res = await session.execute(self._raise, {"t": tenant_id})
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def pending(self, session: AsyncSession, tenant_id: str) -> int:
        return int((await session.execute(self._pending, {"t": tenant_id})).scalar_one())
