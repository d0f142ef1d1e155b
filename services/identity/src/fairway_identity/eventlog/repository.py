"""SQL of the event log: appending rows, reading a profile's events (unmerge replays them, export shows them),
and the sync log staff read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from fairway_chassis import RepositoryBase
from fairway_identity.eventlog.events import LogRow
from fairway_identity.jsonutil import dumps

LOG_INSERT = """
    INSERT INTO event_log (tenant_id, event_id, kind, source, event_type, occurred_at, profile_id, status, detail, body)
    SELECT x.t, x.e, x.k, x.s, x.ty, x.o, x.p, x.st, x.d, x.b
      FROM ROWS FROM (json_to_recordset(CAST(:log AS json))
           AS (t text, e text, k text, s text, ty text, o timestamptz, p uuid, st text, d jsonb, b text))
           WITH ORDINALITY AS x(t, e, k, s, ty, o, p, st, d, b, n)
     ORDER BY x.n
"""

def log_rows(rows: Sequence[LogRow]) -> str:
    return dumps(
        [
            {
                "t": r.tenant_id,
                "e": r.event_id,
                "k": r.kind,
                "s": r.source,
                "ty": r.event_type,
                "o": r.occurred_at,
                "p": r.profile_id,
                "st": r.status,
                "d": r.detail,
                "b": r.body,
            }
            for r in rows
        ]
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A stored event-log row, as unmerge replays it and export shows it."""

    id: int
    event_id: str
    kind: str
    source: str
    event_type: str
    profile_id: str | None
    occurred_at: datetime
    applied_at: datetime
    status: str
    body: str | None
    detail: Any


@dataclass(frozen=True, slots=True)
class SyncLogRow:
    """An upstream event and what identity did with it."""

    id: int
    event_id: str
    source: str
    event_type: str
    profile_id: str | None
    status: str
    occurred_at: datetime
    applied_at: datetime
    matched_by: Any
    confidence: Any


class EventLogRepository(RepositoryBase):
    """One tenant's event log. (The consumer writes its batches' rows in its own statement, `LOG_INSERT`.)"""

    async def append_log(self, rows: Sequence[LogRow]) -> list[int]:
        """Append to the event log in the given order; returns the ids given to the rows, in order."""
        if not rows:
            return []
        if any(r.tenant_id != self.tenant_id for r in rows):
            raise ValueError("a log row of another tenant")
        res = await self.session.execute(text(LOG_INSERT + " RETURNING id"), {"log": log_rows(rows)})
        return sorted(res.scalars().all())

    # -- reading the log ----------------------------------------------------------------------------------
    async def events_of(self, profile_ids: Sequence[str]) -> list[LogEntry]:
        rows = (
            await self.session.execute(
                text("""
            SELECT id, event_id, kind, source, event_type, profile_id::text AS profile_id, occurred_at, applied_at,
                   status, body, detail
              FROM event_log WHERE tenant_id = :t AND profile_id = ANY(CAST(:ids AS uuid[])) ORDER BY id
        """),
                {"t": self.tenant_id, "ids": list(profile_ids)},
            )
        ).all()
        return [LogEntry(**r._mapping) for r in rows]

    async def retag(self, log_ids: Sequence[int], profile_id: str) -> None:
        if log_ids:
            await self.session.execute(
                text("""
                UPDATE event_log SET profile_id = CAST(:p AS uuid) WHERE tenant_id = :t AND id = ANY(:ids)
            """),
                {"t": self.tenant_id, "p": profile_id, "ids": list(log_ids)},
            )

    async def max_id(self) -> int:
        """The log's position now, across tenants: a merge records where in the one log it happened."""
        return (await self.session.execute(text("SELECT coalesce(max(id), 0) FROM event_log"))).scalar_one()

    async def sync_log(
        self,
        *,
        event_id: str | None,
        event_type: str | None,
        profile_id: str | None,
        before: int | None,
        limit: int,
    ) -> list[SyncLogRow]:
        rows = (
            await self.session.execute(
                text("""
            SELECT id, event_id, source, event_type, profile_id::text AS profile_id, status, occurred_at,
                   applied_at, detail->'matchedBy' AS matched_by, detail->'confidence' AS confidence
              FROM event_log
             WHERE tenant_id = :t AND kind = 'upstream'
               AND (CAST(:e AS text) IS NULL OR event_id = :e)
               AND (CAST(:ty AS text) IS NULL OR event_type = :ty)
               AND (CAST(:p AS uuid) IS NULL OR profile_id = CAST(:p AS uuid))
               AND (CAST(:before AS bigint) IS NULL OR id < :before)
             ORDER BY id DESC LIMIT :n
        """),
                {
                    "t": self.tenant_id,
                    "e": event_id,
                    "ty": event_type,
                    "p": profile_id,
                    "before": before,
                    "n": limit,
                },
            )
        ).all()
        return [SyncLogRow(**r._mapping) for r in rows]
