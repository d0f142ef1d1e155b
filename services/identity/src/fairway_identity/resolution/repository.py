"""SQL of the resolution path. Every statement takes a whole batch as one JSON document (unpacked by
json_to_recordset: cheaper than binding arrays element by element), so a consumer batch costs a handful of
round trips however many events it holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Envelope, outbox
from fairway_identity.eventlog.events import LogRow
from fairway_identity.eventlog.repository import LOG_INSERT, log_rows
from fairway_identity.jsonutil import dumps
from fairway_identity.keys import TokenT
from fairway_identity.profiles.records import LiveProfile
from fairway_identity.profiles.repository import PROFILE_UPSERT, profile_rows

_KEYS_INSERT = """
    INSERT INTO identity_key (tenant_id, key_type, value, profile_id, source_event_id)
    SELECT x.t, x.k, x.v, x.p, x.e
      FROM ROWS FROM (json_to_recordset(CAST(:keys AS json)) AS (t text, k text, v text, p uuid, e text))
           WITH ORDINALITY AS x(t, k, v, p, e, n)
     ORDER BY x.n
    ON CONFLICT DO NOTHING
"""
# Data-modifying CTEs all run, referenced or not: four inserts for the price of one round trip.
_WRITE_BATCH = (
    "WITH k AS (" + _KEYS_INSERT + " RETURNING 1), "  # noqa: S608 (built from the constants above, no input)
    "p AS (" + PROFILE_UPSERT + "), "
    "l AS (" + LOG_INSERT + " RETURNING id), "
    "o AS (" + outbox.insert_json_sql("outbox") + ") "
    "SELECT (SELECT count(*) FROM k) AS keys, (SELECT array_agg(id ORDER BY id) FROM l) AS log_ids"
)


class ResolutionBatchRepository:
    """Keys, sightings and blocked values of a resolution batch: spans tenants by design (a consumer batch holds
    many clubs' events), so every token it reads or writes carries its own tenant."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> ResolutionBatchRepository:
        return cls(session)

    async def lookup(self, tokens: Sequence[TokenT]) -> tuple[dict[TokenT, str], set[TokenT]]:
        """Owners of these keys, and which of them are blocked values."""
        if not tokens:
            return {}, set()
        rows = (
            await self.session.execute(
                text("""
            WITH q AS (SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS q(t text, k text, v text))
            SELECT k.tenant_id, k.key_type, k.value, k.profile_id::text AS profile_id, false AS blocked
              FROM identity_key k JOIN q ON k.tenant_id = q.t AND k.key_type = q.k AND k.value = q.v
            UNION ALL
            SELECT b.tenant_id, b.key_type, b.value, NULL, true
              FROM blocked_value b JOIN q ON b.tenant_id = q.t AND b.key_type = q.k AND b.value = q.v
        """),
                {"rows": dumps([{"t": t, "k": k, "v": v} for t, k, v in tokens])},
            )
        ).all()
        owners: dict[TokenT, str] = {}
        blocked: set[TokenT] = set()
        for r in rows:
            if r.blocked:
                blocked.add((r.tenant_id, r.key_type, r.value))
            else:
                owners[(r.tenant_id, r.key_type, r.value)] = r.profile_id
        return owners, blocked

    async def write_batch(
        self,
        keys: Sequence[tuple[TokenT, str, str]],
        profiles: Sequence[LiveProfile],
        log: Sequence[LogRow],
        events: Sequence[Envelope],
    ) -> tuple[int, list[int]]:
        """Everything a resolved batch writes, in one statement: new keys (token, profile, source event), new and
        changed profiles, the event log, the outbox. Returns (keys actually inserted: fewer than asked means a
        concurrent batch linked one first; the event log ids, in order)."""
        keys = sorted(keys)  # one lock order for every transaction
        row = (
            await self.session.execute(
                text(_WRITE_BATCH),
                {
                    "keys": dumps([{"t": t, "k": k, "v": v, "p": p, "e": e} for (t, k, v), p, e in keys]),
                    "profiles": profile_rows(profiles),
                    "log": log_rows(log),
                    "outbox": outbox.json_rows(events),
                },
            )
        ).one()
        return row.keys, list(row.log_ids or [])

    # -- conflicts: sightings, blocked values, candidates --------------------------------------------------
    async def record_sightings(self, sightings: Sequence[tuple[str, str, str, str]]) -> dict[TokenT, int]:
        """Record (tenant, type, value, profile) sightings; return how many profiles each value has been seen on."""
        if not sightings:
            return {}
        cols = list(zip(*sorted(sightings), strict=True))
        await self.session.execute(
            text("""
            INSERT INTO key_sighting (tenant_id, key_type, value, profile_id)
            SELECT * FROM unnest(CAST(:t AS text[]), CAST(:k AS text[]), CAST(:v AS text[]), CAST(:p AS uuid[]))
            ON CONFLICT DO NOTHING
        """),
            {"t": list(cols[0]), "k": list(cols[1]), "v": list(cols[2]), "p": list(cols[3])},
        )
        tokens = sorted({s[:3] for s in sightings})
        rows = (
            await self.session.execute(
                text("""
            SELECT s.tenant_id, s.key_type, s.value, count(*) AS n
              FROM key_sighting s
              JOIN unnest(CAST(:t AS text[]), CAST(:k AS text[]), CAST(:v AS text[])) AS q(tenant_id, key_type, value)
                USING (tenant_id, key_type, value)
             GROUP BY s.tenant_id, s.key_type, s.value
        """),
                {"t": [x[0] for x in tokens], "k": [x[1] for x in tokens], "v": [x[2] for x in tokens]},
            )
        ).all()
        return {(r.tenant_id, r.key_type, r.value): r.n for r in rows}

    async def block(self, tokens: Sequence[TokenT], reasons: Sequence[str]) -> list[tuple[TokenT, str]]:
        """Block values as identifiers and unlink them; returns (token, former owner) of the unlinked keys."""
        cols = {"t": [x[0] for x in tokens], "k": [x[1] for x in tokens], "v": [x[2] for x in tokens]}
        await self.session.execute(
            text("""
            INSERT INTO blocked_value (tenant_id, key_type, value, reason)
            SELECT * FROM unnest(CAST(:t AS text[]), CAST(:k AS text[]), CAST(:v AS text[]), CAST(:r AS text[]))
            ON CONFLICT DO NOTHING
        """),
            {**cols, "r": list(reasons)},
        )
        rows = (
            await self.session.execute(
                text("""
            DELETE FROM identity_key k
             USING unnest(CAST(:t AS text[]), CAST(:k AS text[]), CAST(:v AS text[])) AS q(tenant_id, key_type, value)
             WHERE k.tenant_id = q.tenant_id AND k.key_type = q.key_type AND k.value = q.value
            RETURNING k.tenant_id, k.key_type, k.value, k.profile_id::text AS profile_id
        """),
                cols,
            )
        ).all()
        await self.session.execute(
            text("""
            UPDATE merge_candidate c SET status = 'DISMISSED', resolution = 'conflicting values are blocked',
                   resolved_at = now(), updated_at = now()
             WHERE c.status = 'OPEN' AND c.tenant_id = ANY(CAST(:tenants AS text[]))
               AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(c.conflict_keys) ck(token)
                                WHERE NOT EXISTS (SELECT 1 FROM blocked_value b
                                                   WHERE b.tenant_id = c.tenant_id
                                                     AND b.key_type || ':' || b.value = ck.token))
        """),
            {"tenants": sorted(set(cols["t"]))},
        )
        return [((r.tenant_id, r.key_type, r.value), r.profile_id) for r in rows]

    async def blocked_tokens(self, tenant_id: str) -> frozenset[str]:
        rows = (
            await self.session.execute(
                text("SELECT key_type || ':' || value FROM blocked_value WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).scalars()
        return frozenset(rows.all())
