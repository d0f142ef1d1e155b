"""All SQL on the read model: members (catalogue fields as JSON), their identity keys and segment memberships."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, delete, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.db import member_keys, members, segment_members
from fairway_journeys.readmodel.member import Member
from fairway_journeys.sql import among

_DATE_COLUMNS = {"membership_expiry": "membershipExpiry", "member_since": "memberSince", "date_of_birth": "dateOfBirth"}

# Fields merge into the row's JSON; the typed date columns follow the merged JSON, for date-trigger sweeps.
_MERGE = text(
    "INSERT INTO members AS m (tenant_id, profile_id, status, fields, updated_at, membership_expiry, member_since,"
    " date_of_birth)"
    " SELECT :tenant, :pid, CAST(:status AS varchar), u.fields, :now, (u.fields->>'membershipExpiry')::date,"
    " (u.fields->>'memberSince')::date, (u.fields->>'dateOfBirth')::date"
    " FROM (SELECT CAST(:fields AS jsonb) AS fields) AS u"
    " ON CONFLICT (tenant_id, profile_id) DO UPDATE SET"
    " status = COALESCE(EXCLUDED.status, m.status), fields = m.fields || EXCLUDED.fields, updated_at = :now,"
    " membership_expiry = ((m.fields || EXCLUDED.fields)->>'membershipExpiry')::date,"
    " member_since = ((m.fields || EXCLUDED.fields)->>'memberSince')::date,"
    " date_of_birth = ((m.fields || EXCLUDED.fields)->>'dateOfBirth')::date"
)

# One statement text whatever the number of keys (a VALUES list is compiled anew for each length).
_LINK = text(
    "INSERT INTO member_keys (tenant_id, key_type, value, profile_id)"
    " SELECT :tenant, u.key_type, u.value, :pid FROM unnest(:types, :values) AS u(key_type, value)"
    " ON CONFLICT (tenant_id, key_type, value) DO UPDATE SET profile_id = EXCLUDED.profile_id"
).bindparams(bindparam("types", type_=ARRAY(String)), bindparam("values", type_=ARRAY(String)))

_RESOLVE = text(
    "SELECT k.key_type, k.value, k.profile_id FROM unnest(:types, :values) AS u(key_type, value)"
    " JOIN member_keys k ON k.tenant_id = :tenant AND k.key_type = u.key_type AND k.value = u.value"
).bindparams(bindparam("types", type_=ARRAY(String)), bindparam("values", type_=ARRAY(String)))


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def _as_date(v: Any) -> date | None:
    if isinstance(v, str):
        try:
            return date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


def _member(row: Any, segments: Sequence[str]) -> Member:
    f = dict(row.fields or {})
    return Member(profile_id=row.profile_id, status=row.status, fields=f, segments=tuple(sorted(segments)),
                  dates={k: _as_date(f.get(k)) for k in _DATE_COLUMNS.values()}, time_zone=row.time_zone)


class MemberRepository:
    """The read model of one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def load(self, profile_ids: Iterable[str]) -> dict[str, Member]:
        ids = sorted(set(profile_ids))
        if not ids:
            return {}
        rows = (await self.session.execute(select(members).where(
            members.c.tenant_id == self.tenant_id, among(members.c.profile_id, ids)))).all()
        segs: dict[str, list[str]] = {}
        for pid, sid in (await self.session.execute(select(segment_members.c.profile_id, segment_members.c.segment_id)
                                                    .where(segment_members.c.tenant_id == self.tenant_id,
                                                           among(segment_members.c.profile_id, ids)))).all():
            segs.setdefault(pid, []).append(sid)
        return {r.profile_id: _member(r, segs.get(r.profile_id, [])) for r in rows}

    async def merge(self, changes: Sequence[tuple[str, str | None, dict[str, Any]]], now: datetime) -> None:
        """(profile id, status or None to keep, fields to set) per member, in order (one statement each)."""
        for pid, status, fields in changes:  # several changes to one member in a batch must apply in order
            await self.session.execute(_MERGE, {"tenant": self.tenant_id, "now": now, "pid": pid, "status": status,
                                                "fields": json.dumps({k: _iso(v) for k, v in fields.items()})})

    async def delete(self, profile_id: str) -> None:
        for table in (members, segment_members, member_keys):
            await self.session.execute(delete(table).where(table.c.tenant_id == self.tenant_id,
                                                           table.c.profile_id == profile_id))

    async def link_keys(self, profile_id: str, keys: Iterable[tuple[str, str]]) -> None:
        unique = sorted(set(keys))
        if unique:
            await self.session.execute(_LINK, {"tenant": self.tenant_id, "pid": profile_id,
                                               "types": [t for t, _ in unique], "values": [v for _, v in unique]})

    async def move_keys(self, from_profile: str, to_profile: str) -> None:
        await self.session.execute(member_keys.update().where(
            member_keys.c.tenant_id == self.tenant_id, member_keys.c.profile_id == from_profile
        ).values(profile_id=to_profile))

    async def resolve(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not keys:
            return {}
        unique = sorted(set(keys))
        rows = (await self.session.execute(_RESOLVE, {"tenant": self.tenant_id, "types": [t for t, _ in unique],
                                                      "values": [v for _, v in unique]})).all()
        return {(t, v): p for t, v, p in rows}

    async def enter_segment(self, segment_id: str, profile_id: str, at: datetime) -> None:
        await self.session.execute(insert(segment_members).values(
            tenant_id=self.tenant_id, segment_id=segment_id, profile_id=profile_id, since=at).on_conflict_do_nothing())

    async def leave_segment(self, segment_id: str, profile_id: str) -> None:
        await self.session.execute(delete(segment_members).where(
            segment_members.c.tenant_id == self.tenant_id, segment_members.c.segment_id == segment_id,
            segment_members.c.profile_id == profile_id))

    async def segment_audience(self, segment_id: str) -> list[str]:
        q = select(segment_members.c.profile_id).where(segment_members.c.tenant_id == self.tenant_id,
                                                       segment_members.c.segment_id == segment_id)
        return list((await self.session.execute(q)).scalars().all())

    async def eligible(self, limit: int = 1_000_000) -> list[str]:
        q = select(members.c.profile_id).where(members.c.tenant_id == self.tenant_id,
                                               members.c.status.in_(("ACTIVE", "INACTIVE"))).limit(limit)
        return list((await self.session.execute(q)).scalars().all())

    async def with_date(self, column: str, day: date | None = None, month_day: tuple[int, int] | None = None
                        ) -> list[str]:
        """Eligible members whose date column is `day`, or falls on `month_day` (birthdays) in any year."""
        col = members.c[column]
        q = select(members.c.profile_id).where(members.c.tenant_id == self.tenant_id,
                                               members.c.status.in_(("ACTIVE", "INACTIVE")))
        if day is not None:
            q = q.where(col == day)
        else:
            assert month_day is not None
            q = q.where(text(f"extract(month from {column}) = :m AND extract(day from {column}) = :d")).params(
                m=month_day[0], d=month_day[1])
        return list((await self.session.execute(q)).scalars().all())
