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


GONE = "state_gone"


def add_state_flag_op(table: str, *, columns: list[str] | None = None, gone_key: str | None = None) -> None:
    """An owner's migration: flag every row as changed (existing rows are announced once), from now on by trigger.

    `columns`: only updates of these raise the flag (a bookkeeping column changing announces nothing).
    `gone_key`: for tables whose rows are deleted when the entity goes, the SQL expression of its key over OLD
    (e.g. "OLD.profile_id"); a deleted row is then recorded in `state_gone` and announced as a tombstone.
    """
    from alembic import op

    op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {FLAG} boolean NOT NULL DEFAULT true")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{FLAG} ON {table} (tenant_id) WHERE {FLAG}")
    op.execute(_TRIGGER_FN)
    watched = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    op.execute(f"CREATE TRIGGER {table}_{FLAG} BEFORE INSERT OR {watched} ON {table} "
               "FOR EACH ROW EXECUTE FUNCTION fairway_state_dirty()")
    if gone_key:
        op.execute(f"CREATE TABLE IF NOT EXISTS {GONE} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                   "source text NOT NULL, tenant_id text NOT NULL, key text NOT NULL)")
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{GONE}_source ON {GONE} (source, id)")
        record = f"INSERT INTO {GONE} (source, tenant_id, key) VALUES (TG_TABLE_NAME, OLD.tenant_id, ({gone_key})::text)"  # noqa: S608
        op.execute(f"CREATE OR REPLACE FUNCTION fairway_state_gone_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {record}; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {table}_state_gone AFTER DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION fairway_state_gone_{table}()")


def drop_state_flag_op(table: str) -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS {table}_state_gone ON {table}")
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
    deletes: bool = False  # the table's migration records deleted rows (add_state_flag_op(gone_key=...))


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
        self._gone = text(
            f"DELETE FROM {GONE} WHERE id IN (SELECT id FROM {GONE} WHERE source = :s ORDER BY id LIMIT :n "  # noqa: S608
            "FOR UPDATE SKIP LOCKED) RETURNING tenant_id, key"
        )

    async def publish_batch(self, session: AsyncSession) -> int:
        """Announce up to one batch of changed rows in the caller's transaction; the rows announced."""
        gone: dict[str, list[str]] = defaultdict(list)
        removed = 0
        if self.state.deletes:
            for r in (await session.execute(self._gone, {"s": self.state.table, "n": self.batch_size})).all():
                gone[r.tenant_id].append(r.key)
                removed += 1
        rows = (await session.execute(self._take, {"n": self.batch_size})).mappings().all()
        envelopes = []
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
        if rows:
            await session.execute(self._lower, {"ctids": [r["_ctid"] for r in rows]})
        return len(rows) + removed

    async def publish_pending(self, sessionmaker: async_sessionmaker[AsyncSession], *, max_batches: int = 200) -> int:
        """Announce what changed since the last round, a transaction per batch; the rows announced."""
        total = 0
        for _ in range(max_batches):
            async with sessionmaker() as session, session.begin():
                done = await self.publish_batch(session)
            total += done
            if done < self.batch_size:  # (a batch of deletions and rows counts both; a full one goes round again)
                break
        return total

    async def reannounce(self, session: AsyncSession, tenant_id: str) -> int:
        """Flag every row of a tenant to be announced again; the rows flagged."""
        res = await session.execute(self._raise, {"t": tenant_id})
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def pending(self, session: AsyncSession, tenant_id: str) -> int:
        return int((await session.execute(self._pending, {"t": tenant_id})).scalar_one())
