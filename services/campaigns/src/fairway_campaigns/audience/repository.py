"""All SQL of the audience read models. Writes come in bulk (one statement per event type and round of a batch);
reads serve dispatch's policy and the campaign fan-out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, column, exists, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

_PROFILE_COLS = ("profile_id text, status text, email text, phone_number text, messaging_contact_id text, "
                 "email_opt_in boolean, sms_opt_in boolean, push_opt_in boolean, ai_consent boolean, time_zone text")

# A full snapshot (created, merged winner, unmerged pair). An erased profile stays erased: its tombstone refuses
# later snapshots, so a replayed event never brings an address back. The time zone survives a snapshot without one.
_UPSERT_SNAPSHOTS = text(f"""
    INSERT INTO dispatch_profiles (tenant_id, profile_id, status, email, phone_number, messaging_contact_id,
        email_opt_in, sms_opt_in, push_opt_in, ai_consent, time_zone, updated_at)
    SELECT CAST(:t AS varchar), r.profile_id, r.status, r.email, r.phone_number, r.messaging_contact_id, r.email_opt_in,
           r.sms_opt_in, r.push_opt_in, r.ai_consent, r.time_zone, :at
    FROM json_to_recordset(CAST(:rows AS json)) AS r({_PROFILE_COLS})
    ON CONFLICT (tenant_id, profile_id) DO UPDATE SET
        status = EXCLUDED.status, email = EXCLUDED.email, phone_number = EXCLUDED.phone_number,
        messaging_contact_id = EXCLUDED.messaging_contact_id, email_opt_in = EXCLUDED.email_opt_in,
        sms_opt_in = EXCLUDED.sms_opt_in, push_opt_in = EXCLUDED.push_opt_in, ai_consent = EXCLUDED.ai_consent,
        time_zone = COALESCE(EXCLUDED.time_zone, dispatch_profiles.time_zone), updated_at = EXCLUDED.updated_at
    WHERE NOT dispatch_profiles.erased
""")  # noqa: S608 (constant SQL fragments)

# Partial changes: a NULL field in the row means "unchanged" (flags named in `set_*` say which to overwrite).
_PATCH = text("""
    UPDATE dispatch_profiles p SET
        status = COALESCE(r.status, p.status),
        email = CASE WHEN r.set_addresses THEN r.email ELSE COALESCE(p.email, r.email) END,
        phone_number = CASE WHEN r.set_addresses THEN r.phone_number ELSE COALESCE(p.phone_number, r.phone_number) END,
        messaging_contact_id = CASE WHEN r.set_addresses THEN r.messaging_contact_id
                                    ELSE COALESCE(p.messaging_contact_id, r.messaging_contact_id) END,
        email_opt_in = CASE WHEN r.set_consent THEN r.email_opt_in ELSE p.email_opt_in END,
        sms_opt_in = CASE WHEN r.set_consent THEN r.sms_opt_in ELSE p.sms_opt_in END,
        push_opt_in = CASE WHEN r.set_consent THEN r.push_opt_in ELSE p.push_opt_in END,
        ai_consent = CASE WHEN r.set_consent THEN r.ai_consent ELSE p.ai_consent END,
        time_zone = COALESCE(r.time_zone, p.time_zone),
        updated_at = :at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(profile_id text, status text, set_addresses boolean,
        email text, phone_number text, messaging_contact_id text, set_consent boolean, email_opt_in boolean,
        sms_opt_in boolean, push_opt_in boolean, ai_consent boolean, time_zone text)
    WHERE p.tenant_id = :t AND p.profile_id = r.profile_id AND NOT p.erased
""")

# Erasure: a tombstone without PII (so later requests are suppressed with a reason), and nothing else kept.
_ERASE = text("""
    WITH gone AS (SELECT unnest(CAST(:ids AS text[])) AS profile_id),
    seg AS (DELETE FROM dispatch_segment_members m USING gone g WHERE m.tenant_id = :t AND m.profile_id = g.profile_id),
    sto AS (DELETE FROM dispatch_send_times s USING gone g WHERE s.tenant_id = :t AND s.profile_id = g.profile_id)
    INSERT INTO dispatch_profiles (tenant_id, profile_id, status, erased, updated_at)
    SELECT CAST(:t AS varchar), g.profile_id, 'DELETED', true, :at FROM gone g
    ON CONFLICT (tenant_id, profile_id) DO UPDATE SET status = 'DELETED', erased = true, email = NULL,
        phone_number = NULL, messaging_contact_id = NULL, email_opt_in = NULL, sms_opt_in = NULL,
        push_opt_in = NULL, ai_consent = NULL, time_zone = NULL, updated_at = EXCLUDED.updated_at
""")

_ENTER = text("""
    INSERT INTO dispatch_segment_members (tenant_id, segment_id, profile_id, entered_at)
    SELECT CAST(:t AS varchar), r.segment_id, r.profile_id, r.at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(segment_id text, profile_id text, at timestamptz)
    WHERE NOT EXISTS (SELECT 1 FROM dispatch_profiles p WHERE p.tenant_id = :t AND p.profile_id = r.profile_id
                      AND p.erased)
    ON CONFLICT DO NOTHING
""")
_EXIT = text("""
    DELETE FROM dispatch_segment_members m
    USING json_to_recordset(CAST(:rows AS json)) AS r(segment_id text, profile_id text)
    WHERE m.tenant_id = :t AND m.segment_id = r.segment_id AND m.profile_id = r.profile_id
""")
_SEND_TIMES = text("""
    INSERT INTO dispatch_send_times (tenant_id, profile_id, hourly, time_zone, confidence, updated_at)
    SELECT CAST(:t AS varchar), r.profile_id, ARRAY(SELECT json_array_elements_text(r.hourly)::float8), r.time_zone, r.confidence,
           r.updated_at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(profile_id text, hourly json, time_zone text,
        confidence float8, updated_at timestamptz)
    WHERE NOT EXISTS (SELECT 1 FROM dispatch_profiles p WHERE p.tenant_id = :t AND p.profile_id = r.profile_id
                      AND p.erased)
    ON CONFLICT (tenant_id, profile_id) DO UPDATE SET hourly = EXCLUDED.hourly, time_zone = EXCLUDED.time_zone,
        confidence = EXCLUDED.confidence, updated_at = EXCLUDED.updated_at
    WHERE dispatch_send_times.updated_at <= EXCLUDED.updated_at
""")

_members = table("dispatch_segment_members", column("tenant_id"), column("segment_id"), column("profile_id"))


def audience_query(tenant_id: str, segment_id: str, exclusions: Sequence[str]) -> Select:
    """Profile ids (one column, `profile_id`) of the segment's members in no exclusion segment. Everyone is listed,
    reachable or not: dispatch records why it skips someone."""
    m = _members.alias("m")
    x = _members.alias("x")
    q = select(m.c.profile_id.label("profile_id")).where(m.c.tenant_id == tenant_id, m.c.segment_id == segment_id)
    if exclusions:
        q = q.where(~exists().where(x.c.tenant_id == tenant_id, x.c.profile_id == m.c.profile_id,
                                    x.c.segment_id.in_(list(exclusions))))
    return q


@dataclass(frozen=True, slots=True)
class SendTimeProfile:
    hourly: tuple[float, ...]  # 24 open probabilities, by hour of `time_zone`
    time_zone: str
    confidence: float


class AudienceRepository:
    """The read models of one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def _run(self, stmt: Any, rows: Sequence[dict[str, Any]], **params: Any) -> None:
        if rows:
            await self.session.execute(stmt, {"t": self.tenant_id, "rows": orjson.dumps(rows).decode(), **params})

    async def upsert_snapshots(self, rows: Sequence[dict[str, Any]], at: Any) -> None:
        await self._run(_UPSERT_SNAPSHOTS, rows, at=at)

    async def patch(self, rows: Sequence[dict[str, Any]], at: Any) -> None:
        await self._run(_PATCH, rows, at=at)

    async def erase(self, profile_ids: Sequence[str], at: Any) -> None:
        if profile_ids:
            await self.session.execute(_ERASE, {"t": self.tenant_id, "ids": list(profile_ids), "at": at})

    async def enter(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._run(_ENTER, rows)

    async def exit(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._run(_EXIT, rows)

    async def send_times(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._run(_SEND_TIMES, rows)

    # -- reads ---------------------------------------------------------------------------------------------------

    async def time_zones(self, profile_ids: Sequence[str], default: str) -> dict[str, str]:
        rows = await self.session.execute(text(
            "SELECT i.id, COALESCE(p.time_zone, :d) FROM unnest(CAST(:ids AS text[])) AS i(id) "
            "LEFT JOIN dispatch_profiles p ON p.tenant_id = :t AND p.profile_id = i.id"),
            {"t": self.tenant_id, "ids": list(profile_ids), "d": default})
        return {pid: tz for pid, tz in rows.all()}

    async def zones_of(self, profile_ids: Sequence[str]) -> list[str | None]:
        """The time zones these people have (NULL: unknown, the tenant default applies)."""
        rows = await self.session.execute(text(
            "SELECT DISTINCT time_zone FROM dispatch_profiles "
            "WHERE tenant_id = :t AND profile_id = ANY(CAST(:ids AS text[]))"), {"t": self.tenant_id,
                                                                             "ids": list(profile_ids)})
        return [r[0] for r in rows.all()]

    async def zones_of_due(self, now: Any) -> list[str | None]:
        """The time zones of the people whose held messages are due."""
        rows = await self.session.execute(text(
            "SELECT DISTINCT p.time_zone FROM dispatch_ledger l JOIN dispatch_profiles p "
            "ON p.tenant_id = l.tenant_id AND p.profile_id = l.profile_id "
            "WHERE l.tenant_id = :t AND l.status = 'HELD' AND l.send_at <= :now"), {"t": self.tenant_id, "now": now})
        return [r[0] for r in rows.all()]

    async def send_time_profiles(self, profile_ids: Sequence[str]) -> dict[str, SendTimeProfile]:
        rows = await self.session.execute(text(
            "SELECT profile_id, hourly, time_zone, confidence FROM dispatch_send_times "
            "WHERE tenant_id = :t AND profile_id = ANY(CAST(:ids AS text[]))"),
            {"t": self.tenant_id, "ids": list(profile_ids)})
        return {r[0]: SendTimeProfile(tuple(r[1]), r[2], float(r[3])) for r in rows.all()}

    async def pooled_send_time(self, min_confidence: float) -> SendTimeProfile | None:
        """The club's prior: the confidence-weighted mean of its confident members' profiles (hours in UTC-free
        form need one zone, so profiles in the most common zone only)."""
        row = (await self.session.execute(text("""
            WITH zone AS (SELECT time_zone FROM dispatch_send_times WHERE tenant_id = :t AND confidence >= :c
                          GROUP BY time_zone ORDER BY count(*) DESC, time_zone LIMIT 1)
            SELECT array_agg(v ORDER BY h), (SELECT time_zone FROM zone), max(n)
            FROM (SELECT h, sum(s.hourly[h] * s.confidence) / sum(s.confidence) AS v, count(*) AS n
                  FROM dispatch_send_times s, generate_series(1, 24) AS h
                  WHERE s.tenant_id = :t AND s.confidence >= :c AND s.time_zone = (SELECT time_zone FROM zone)
                  GROUP BY h) AS x
        """), {"t": self.tenant_id, "c": min_confidence})).one()
        if row[0] is None:
            return None
        return SendTimeProfile(tuple(float(v) for v in row[0]), row[1], min_confidence)
