"""All SQL on the read model (`profiles`) and its tombstones. Every query is scoped by tenant."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping

from fairway_chassis import RepositoryBase
from fairway_segmentation.db import profile_tombstones, profiles
from fairway_segmentation.readmodel.fields import COLUMNS, ELIGIBLE
from fairway_segmentation.readmodel.mapping import COUNTER_COLUMNS, LAST_COLUMNS, SCORE_COLUMNS

P = profiles.c
SUMMARY = (P.profile_id, P.first_name, P.last_name, P.email, P.membership_tier, P.status)


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """A profile as a criteria preview samples it."""

    profile_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    membership_tier: str | None
    status: str | None


class ProfileRepository(RepositoryBase):
    """The read model of one tenant."""

    # -- reads ------------------------------------------------------------------------------------------
    async def load(self, profile_ids: Iterable[str]) -> dict[str, RowMapping]:
        ids = list(set(profile_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(profiles).where(self.owns(profiles), P.profile_id.in_(ids))
        )
        return {r.profile_id: r for r in rows.mappings()}

    async def tombstones(self, profile_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(profile_ids))
        if not ids:
            return {}
        t = profile_tombstones.c
        rows = await self.session.execute(
            select(t.profile_id, t.reason).where(self.owns(t), t.profile_id.in_(ids))
        )
        return {r.profile_id: r.reason for r in rows}

    async def count(self, where: ColumnElement[bool]) -> int:
        q = select(func.count()).select_from(profiles).where(self.owns(profiles), ELIGIBLE, where)
        return int((await self.session.execute(q)).scalar_one())

    async def sample(self, where: ColumnElement[bool], limit: int) -> list[ProfileSummary]:
        q = (
            select(*SUMMARY)
            .where(self.owns(profiles), ELIGIBLE, where)
            .order_by(P.profile_id)
            .limit(limit)
        )
        return [ProfileSummary(**r) for r in (await self.session.execute(q)).mappings()]

    async def fields_without_data(self, fields: Sequence[str]) -> list[str]:
        """Catalogue fields no eligible profile of the tenant has a value for (e.g. scores not computed yet)."""
        if not fields:
            return []
        cols = []
        for f in fields:
            c = COLUMNS[f]
            present = func.cardinality(c) > 0 if f == "tags" else c.is_not(None)
            cols.append(func.bool_or(present).label(f))
        row = (
            (await self.session.execute(select(*cols).where(self.owns(profiles), ELIGIBLE)))
            .mappings()
            .one()
        )
        return [f for f in fields if not row[f]]

    async def existing(self, profile_ids: Iterable[str]) -> set[str]:
        ids = list(set(profile_ids))
        if not ids:
            return set()
        rows = await self.session.execute(
            select(P.profile_id).where(self.owns(profiles), P.profile_id.in_(ids), ELIGIBLE)
        )
        return set(rows.scalars())

    async def match_emails(self, emails: Sequence[str]) -> dict[str, list[str]]:
        """lower-cased email -> profile ids having it among their emails."""
        if not emails:
            return {}
        rows = await self.session.execute(
            text("""
            SELECT k.key, p.profile_id
            FROM unnest(CAST(:keys AS text[])) AS k(key)
            JOIN profiles p ON p.emails @> ARRAY[k.key] AND p.tenant_id = :tenant
            WHERE p.status IN ('ACTIVE', 'INACTIVE')
        """),
            {"keys": list(emails), "tenant": self.tenant_id},
        )
        return _group(rows)

    async def match_member_numbers(self, numbers: Sequence[str]) -> dict[str, list[str]]:
        """lower-cased member number -> profile ids (membership number or SCL member id)."""
        if not numbers:
            return {}
        rows = await self.session.execute(
            text("""
            SELECT k.key, p.profile_id
            FROM unnest(CAST(:keys AS text[])) AS k(key)
            JOIN profiles p ON p.tenant_id = :tenant AND lower(p.membership_number) = k.key
            WHERE p.status IN ('ACTIVE', 'INACTIVE')
            UNION
            SELECT k.key, p.profile_id
            FROM unnest(CAST(:keys AS text[])) AS k(key)
            JOIN profiles p ON p.scl_member_ids @> ARRAY[k.key] AND p.tenant_id = :tenant
            WHERE p.status IN ('ACTIVE', 'INACTIVE')
        """),
            {"keys": list(numbers), "tenant": self.tenant_id},
        )
        return _group(rows)

    # -- writes -----------------------------------------------------------------------------------------
    async def upsert(self, profile_id: str, values: dict[str, Any]) -> None:
        """Create the row or overwrite the given columns."""
        await self.upsert_many({profile_id: values})

    async def upsert_if_newer(
        self, profile_id: str, values: dict[str, Any], as_of_column: str
    ) -> None:
        """As upsert, unless the row already holds values from a later moment (out-of-order events)."""
        await self.upsert_many({profile_id: values}, as_of_column)

    async def upsert_many(self, rows: dict[str, dict[str, Any]], as_of_column: str | None = None) -> None:
        """`upsert` (or `upsert_if_newer` on `as_of_column`) of many profiles: one statement per set of columns
        (executemany, sent as multi-row INSERTs), not one per profile."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for profile_id, values in rows.items():
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"tenant_id": self.tenant_id, "profile_id": profile_id, **values}
            )
        for columns, params in by_columns.items():
            await self.session.execute(_upsert_statement(columns, as_of_column), params)

    async def link_identity(self, profile_id: str, key_type: str, value: str) -> None:
        v = value.replace("\x00", "").strip()
        if not v:
            return
        params = {"t": self.tenant_id, "p": profile_id, "v": v, "lv": v.lower()}
        sql = {
            "email": """INSERT INTO profiles (tenant_id, profile_id, email, emails) VALUES (:t, :p, :v, ARRAY[:lv])
                        ON CONFLICT (tenant_id, profile_id) DO UPDATE SET
                          email = COALESCE(profiles.email, EXCLUDED.email),
                          emails = CASE WHEN profiles.emails @> ARRAY[:lv] THEN profiles.emails
                                        ELSE profiles.emails || ARRAY[:lv] END,
                          updated_at = now()""",
            "phoneNumber": """INSERT INTO profiles (tenant_id, profile_id, phone_number) VALUES (:t, :p, :v)
                        ON CONFLICT (tenant_id, profile_id) DO UPDATE SET
                          phone_number = COALESCE(profiles.phone_number, EXCLUDED.phone_number), updated_at = now()""",
            "messagingContactId": """INSERT INTO profiles (tenant_id, profile_id, messaging_contact_id)
                        VALUES (:t, :p, :v) ON CONFLICT (tenant_id, profile_id) DO UPDATE SET
                          messaging_contact_id = COALESCE(profiles.messaging_contact_id, EXCLUDED.messaging_contact_id),
                          updated_at = now()""",
            "sclMemberId": """INSERT INTO profiles (tenant_id, profile_id, scl_member_ids) VALUES (:t, :p, ARRAY[:lv])
                        ON CONFLICT (tenant_id, profile_id) DO UPDATE SET
                          scl_member_ids = CASE WHEN profiles.scl_member_ids @> ARRAY[:lv] THEN profiles.scl_member_ids
                                                ELSE profiles.scl_member_ids || ARRAY[:lv] END,
                          updated_at = now()""",
        }.get(key_type)
        if sql is not None:  # authUserId / teetimePlayerId play no part in segments
            await self.session.execute(text(sql), params)

    async def delete(self, profile_id: str) -> RowMapping | None:
        row = await self.session.execute(
            profiles.delete().where(self.owns(profiles), P.profile_id == profile_id).returning(profiles)
        )
        return row.mappings().first()

    async def fold_in_activity(
        self, winner_id: str, loser: RowMapping, merged_at: datetime
    ) -> None:
        """Until timeline and ml-scoring publish the merged person's figures, the winner carries both halves:
        counts add up, last-seen moments take the later one, and scores fill in where the winner has none.
        Counters timeline already re-published after the merge are left alone."""
        sets = [f"{c} = LEAST(2147483647, {c}::bigint + :{c})" for c in COUNTER_COLUMNS.values()]
        sets += [f"{c} = GREATEST({c}, :{c})" for c in LAST_COLUMNS.values()]
        sets += [f"{c} = COALESCE({c}, :{c})" for c in SCORE_COLUMNS]
        sets += [
            "last_activity_type = CASE WHEN :last_activity_at > last_activity_at OR last_activity_at IS NULL "
            "THEN CAST(:last_activity_type AS text) ELSE last_activity_type END",
            "counters_as_of = GREATEST(counters_as_of, CAST(:counters_as_of AS timestamptz))",
            "scores_as_of = COALESCE(scores_as_of, CAST(:scores_as_of AS timestamptz))",
        ]
        params: dict[str, Any] = {
            c: loser[c]
            for c in [
                *COUNTER_COLUMNS.values(),
                *LAST_COLUMNS.values(),
                *SCORE_COLUMNS,
                "last_activity_type",
                "counters_as_of",
                "scores_as_of",
            ]
        }
        params.update(t=self.tenant_id, p=winner_id, merged_at=merged_at)
        # Column names come from our own constant mappings above, never from input.
        await self.session.execute(
            text(
                f"UPDATE profiles SET {', '.join(sets)}, updated_at = now() "  # noqa: S608
                "WHERE tenant_id = :t AND profile_id = :p "
                "AND (counters_as_of IS NULL OR counters_as_of < :merged_at)"
            ),
            params,
        )

    async def tombstone(
        self, profile_id: str, reason: str, at: datetime, merged_into: str | None = None
    ) -> None:
        stmt = insert(profile_tombstones).values(
            tenant_id=self.tenant_id, profile_id=profile_id, reason=reason, at=at, merged_into=merged_into
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[profile_tombstones.c.tenant_id, profile_tombstones.c.profile_id],
                set_={
                    "reason": stmt.excluded.reason,
                    "at": stmt.excluded.at,
                    "merged_into": stmt.excluded.merged_into,
                },
                # an erasure is for ever; a later merge of the same id cannot soften it
                where=profile_tombstones.c.reason != "erased",
            )
        )

    async def clear_merge_tombstone(self, profile_id: str) -> None:
        t = profile_tombstones.c
        await self.session.execute(
            profile_tombstones.delete().where(
                and_(self.owns(t), t.profile_id == profile_id, t.reason == "merged")
            )
        )


@functools.lru_cache(maxsize=64)
def _upsert_statement(columns: tuple[str, ...], as_of_column: str | None) -> Any:
    """Built once per set of columns: building an INSERT .. ON CONFLICT costs more Python than running it."""
    stmt = insert(profiles)
    where = None
    if as_of_column is not None:
        current = profiles.c[as_of_column]
        where = or_(current.is_(None), current <= stmt.excluded[as_of_column])
    # RETURNING lets SQLAlchemy send the rows as multi-row INSERTs ("insertmanyvalues")
    return stmt.on_conflict_do_update(
        index_elements=[P.tenant_id, P.profile_id],
        set_={**{k: stmt.excluded[k] for k in columns}, "updated_at": func.now()},
        where=where,
    ).returning(P.profile_id)


def _group(rows: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, pid in rows:
        out.setdefault(key, []).append(pid)
    return out
