"""All SQL on segments, their members and size history. Every query is scoped by tenant.

Membership moves in two ways. One person at a time (the consumer's incremental path, static edits) goes through
`add`/`remove` and Python-built events. A whole segment at once (refresh, delete, full resync) is set-based: the
diff lands in the session's temporary `seg_changes` table and the events are written from it by SQL, so a
refresh that moves 100,000 people never ships their ids through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    MetaData,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Sql, outbox
from fairway_events.contracts.messaging_out import SegmentSyncDelta
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_segmentation.db import profiles, segment_members, segment_size_history, segments
from fairway_segmentation.readmodel.fields import ELIGIBLE

S = segments.c
M = segment_members.c
P = profiles.c
H = segment_size_history.c

# The per-transaction scratch table of a set-based change (created on demand, never migrated).
seg_changes = Table(
    "seg_changes",
    MetaData(),
    Column("profile_id", Text, nullable=False),
    Column("entered", Boolean, nullable=False),
    Column("email", Text),
    Column("phone_number", Text),
    Column("messaging_contact_id", Text),
)

SYNC_CHUNK = 1000  # recipients per segment.sync.delta: well under Kafka's 1 MB message limit


def lock_key(tenant_id: str, segment_id: str) -> str:
    return f"fairway-segment:{tenant_id}:{segment_id}"


@dataclass(frozen=True)
class Diff:
    size: int
    entered: int
    exited: int


class SegmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> SegmentRepository:
        return cls(session)

    async def create(self, values: dict[str, Any]) -> None:
        await self.session.execute(segments.insert().values(**values))

    async def get(self, tenant_id: str, segment_id: str, *, for_update: bool = False) -> RowMapping | None:
        q = select(segments).where(S.tenant_id == tenant_id, S.segment_id == segment_id)
        if for_update:
            q = q.with_for_update()
        return (await self.session.execute(q)).mappings().first()

    async def page(
        self, tenant_id: str, *, after: str | None, limit: int, type_: str | None
    ) -> list[RowMapping]:
        q = select(segments).where(S.tenant_id == tenant_id)
        if after:
            q = q.where(S.segment_id > after)
        if type_:
            q = q.where(S.type == type_)
        return list((await self.session.execute(q.order_by(S.segment_id).limit(limit))).mappings())

    async def name_taken(self, tenant_id: str, name: str, *, except_id: str | None = None) -> bool:
        q = select(S.segment_id).where(S.tenant_id == tenant_id, func.lower(S.name) == name.lower())
        if except_id:
            q = q.where(S.segment_id != except_id)
        return (await self.session.execute(q.limit(1))).first() is not None

    async def names(self, tenant_id: str) -> list[str]:
        return list(
            (
                await self.session.execute(
                    select(S.name).where(S.tenant_id == tenant_id).order_by(S.name).limit(200)
                )
            ).scalars()
        )

    async def update(self, tenant_id: str, segment_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(segments).where(S.tenant_id == tenant_id, S.segment_id == segment_id).values(**values)
        )

    async def delete(self, tenant_id: str, segment_id: str) -> None:
        await self.session.execute(
            segments.delete().where(S.tenant_id == tenant_id, S.segment_id == segment_id)
        )

    async def of_tenant(self, tenant_id: str, *, dynamic_active_only: bool = False) -> list[RowMapping]:
        q = select(
            S.segment_id, S.name, S.type, S.criteria, S.active, S.sync_to_messaging, S.updated_at
        ).where(S.tenant_id == tenant_id)
        if dynamic_active_only:
            q = q.where(S.type == "DYNAMIC", S.active.is_(True))
        return list((await self.session.execute(q.order_by(S.segment_id))).mappings())

    async def adjust_counts(
        self,
        tenant_id: str,
        deltas: dict[str, int],
        *,
        synced_at: datetime | None = None,
        synced: Iterable[str] = (),
    ) -> None:
        synced = set(synced)
        # Sorted, so two consumers updating the same segments never wait on each other in a cycle.
        for segment_id in sorted(set(deltas) | synced):
            values: dict[str, Any] = {"member_count": S.member_count + deltas.get(segment_id, 0)}
            if segment_id in synced:
                values["last_synced_at"] = synced_at
            await self.session.execute(
                update(segments).where(S.tenant_id == tenant_id, S.segment_id == segment_id).values(**values)
            )

    async def add_history(
        self,
        tenant_id: str,
        segment_id: str,
        at: datetime,
        member_count: int,
        entered: int,
        exited: int,
        reason: str,
    ) -> None:
        await self.session.execute(
            segment_size_history.insert().values(
                tenant_id=tenant_id,
                segment_id=segment_id,
                at=at,
                member_count=member_count,
                entered=entered,
                exited=exited,
                reason=reason,
            )
        )

    async def history(self, tenant_id: str, segment_id: str, limit: int = 100) -> list[RowMapping]:
        q = (
            select(H.at, H.member_count, H.entered, H.exited, H.reason)
            .where(H.tenant_id == tenant_id, H.segment_id == segment_id)
            .order_by(H.at.desc(), H.id.desc())
            .limit(limit)
        )
        return list(reversed(list((await self.session.execute(q)).mappings())))

    # -- locks ------------------------------------------------------------------------------------------
    # Per segment: a refresh or an edit holds it alone; each consumer transaction shares every segment's.
    # Per tenant: creating or deleting a segment holds it alone; consumer transactions share it, so the set of
    # segments they evaluate cannot change under them. Order: tenant, then segments (sorted): no cycles.
    async def lock_tenant(self, tenant_id: str, *, shared: bool) -> None:
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self.session.execute(
            text(f"SELECT {fn}(hashtextextended(:k, 0))"), {"k": f"fairway-segments-of:{tenant_id}"}
        )

    async def lock(self, tenant_id: str, segment_id: str) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": lock_key(tenant_id, segment_id)},
        )

    async def try_lock(self, tenant_id: str, segment_id: str) -> bool:
        return bool(
            (
                await self.session.execute(
                    text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                    {"k": lock_key(tenant_id, segment_id)},
                )
            ).scalar()
        )

    async def lock_shared(self, tenant_id: str, segment_ids: Sequence[str]) -> None:
        if segment_ids:
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(hashtextextended(k, 0)) "
                    "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
                ),
                {"keys": sorted(lock_key(tenant_id, s) for s in segment_ids)},
            )

    # -- maintenance (across tenants: the loop serves every tenant, each segment handled in its own scope) --
    async def time_sensitive(self) -> list[RowMapping]:
        q = select(
            S.tenant_id, S.segment_id, S.time_sensitivity, S.time_checked_at, S.last_refreshed_at
        ).where(S.type == "DYNAMIC", S.active.is_(True), S.time_sensitivity.is_not(None))
        return list((await self.session.execute(q)).mappings())

    async def refresh_candidates(self, before: datetime) -> list[RowMapping]:
        q = select(S.tenant_id, S.segment_id).where(
            S.type == "DYNAMIC",
            S.active.is_(True),
            (S.last_refreshed_at.is_(None)) | (S.last_refreshed_at < before),
        )
        return list((await self.session.execute(q)).mappings())


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> MembershipRepository:
        return cls(session)

    async def of_profiles(self, tenant_id: str, profile_ids: Iterable[str]) -> set[tuple[str, str]]:
        ids = list(set(profile_ids))
        if not ids:
            return set()
        rows = await self.session.execute(
            select(M.segment_id, M.profile_id).where(M.tenant_id == tenant_id, M.profile_id.in_(ids))
        )
        return {(r.segment_id, r.profile_id) for r in rows}

    async def add(
        self, tenant_id: str, segment_id: str, profile_ids: Sequence[str], source: str, at: datetime
    ) -> list[str]:
        if not profile_ids:
            return []
        stmt = insert(segment_members).values(
            [
                {
                    "tenant_id": tenant_id,
                    "segment_id": segment_id,
                    "profile_id": p,
                    "added_at": at,
                    "source": source,
                }
                for p in dict.fromkeys(profile_ids)
            ]
        )
        rows = await self.session.execute(stmt.on_conflict_do_nothing().returning(M.profile_id))
        return list(rows.scalars())

    async def remove(self, tenant_id: str, segment_id: str, profile_ids: Sequence[str]) -> list[str]:
        if not profile_ids:
            return []
        rows = await self.session.execute(
            segment_members.delete()
            .where(
                M.tenant_id == tenant_id,
                M.segment_id == segment_id,
                M.profile_id.in_(list(set(profile_ids))),
            )
            .returning(M.profile_id)
        )
        return list(rows.scalars())

    async def remove_everywhere(self, tenant_id: str, profile_id: str) -> list[tuple[str, str]]:
        """Drop the person from every segment; (segment id, source) of each membership dropped."""
        rows = await self.session.execute(
            segment_members.delete()
            .where(M.tenant_id == tenant_id, M.profile_id == profile_id)
            .returning(M.segment_id, M.source)
        )
        return [(r.segment_id, r.source) for r in rows]

    async def page(
        self, tenant_id: str, segment_id: str, *, after: str | None, limit: int
    ) -> list[RowMapping]:
        q = (
            select(M.profile_id, M.added_at, M.source, P.first_name, P.last_name, P.email, P.membership_tier)
            .select_from(
                segment_members.outerjoin(
                    profiles, and_(P.tenant_id == M.tenant_id, P.profile_id == M.profile_id)
                )
            )
            .where(M.tenant_id == tenant_id, M.segment_id == segment_id)
        )
        if after:
            q = q.where(M.profile_id > after)
        return list((await self.session.execute(q.order_by(M.profile_id).limit(limit))).mappings())

    async def recipients(self, tenant_id: str, profile_ids: Iterable[str]) -> dict[str, RowMapping]:
        ids = list(set(profile_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(P.profile_id, P.email, P.phone_number, P.messaging_contact_id).where(
                P.tenant_id == tenant_id, P.profile_id.in_(ids)
            )
        )
        return {r.profile_id: r for r in rows.mappings()}

    async def count(self, tenant_id: str, segment_id: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(segment_members)
                    .where(M.tenant_id == tenant_id, M.segment_id == segment_id)
                )
            ).scalar_one()
        )

    # -- set-based ----------------------------------------------------------------------------------------
    async def start_changes(self) -> None:
        """An empty `seg_changes` for this transaction (a temporary table, emptied again at commit)."""
        await self.session.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS seg_changes (profile_id text NOT NULL, entered boolean NOT NULL, "
                "email text, phone_number text, messaging_contact_id text) ON COMMIT DELETE ROWS"
            )
        )
        await self.session.execute(text("TRUNCATE seg_changes"))

    async def diff(self, tenant_id: str, segment_id: str, where: ColumnElement[bool], at: datetime) -> Diff:
        """Make the members exactly the eligible profiles matching `where`; every entry and exit (with the
        person's contact fields, for Messaging) is recorded in seg_changes. The caller holds the segment's lock.

        One pass over the read model: the matching profiles, fully outer-joined with the current members, leave
        only the differences; then only those rows are inserted or deleted. `where` comes from criteria_sql
        (bound parameters only) and is embedded as a subquery.
        """
        await self.start_changes()
        # The full join hashes every member of a big segment: give this transaction room to do it in memory.
        await self.session.execute(text("SET LOCAL work_mem = '64MB'"))
        m = (
            select(P.profile_id, P.email, P.phone_number, P.messaging_contact_id)
            .where(P.tenant_id == tenant_id, ELIGIBLE, where)
            .subquery("m")
        )
        c = select(M.profile_id).where(M.tenant_id == tenant_id, M.segment_id == segment_id).subquery("c")
        changes = (
            select(
                func.coalesce(m.c.profile_id, c.c.profile_id),
                m.c.profile_id.is_not(None),
                m.c.email,
                m.c.phone_number,
                m.c.messaging_contact_id,
            )
            .select_from(m.join(c, m.c.profile_id == c.c.profile_id, full=True))
            .where(or_(m.c.profile_id.is_(None), c.c.profile_id.is_(None)))
        )
        await self.session.execute(
            insert(seg_changes).from_select(
                ["profile_id", "entered", "email", "phone_number", "messaging_contact_id"], changes
            )
        )
        params = {"t": tenant_id, "s": segment_id, "at": at}
        entered = (
            await self.session.execute(
                text(
                    # No ON CONFLICT: under the segment's lock nobody else adds members, and its check per row costs.
                    "INSERT INTO segment_members (tenant_id, segment_id, profile_id, added_at, source) "
                    "SELECT :t, :s, profile_id, :at, 'rule' FROM seg_changes WHERE entered"
                ),
                params,
            )
        ).rowcount  # type: ignore[attr-defined]
        exited = (
            await self.session.execute(
                text(
                    "DELETE FROM segment_members m USING seg_changes c WHERE m.tenant_id = :t AND m.segment_id = :s "
                    "AND m.profile_id = c.profile_id AND NOT c.entered"
                ),
                params,
            )
        ).rowcount  # type: ignore[attr-defined]
        size = await self.count(tenant_id, segment_id)
        return Diff(size, int(entered or 0), int(exited or 0))

    async def exit_all(self, tenant_id: str, segment_id: str) -> int:
        """Record every member as leaving and remove them (the segment is being deleted)."""
        await self.start_changes()
        res = await self.session.execute(
            text(
                "WITH gone AS (DELETE FROM segment_members WHERE tenant_id = :t AND segment_id = :s "
                "RETURNING profile_id) INSERT INTO seg_changes (profile_id, entered) SELECT profile_id, false FROM gone"
            ),
            {"t": tenant_id, "s": segment_id},
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def all_entered(self, tenant_id: str, segment_id: str) -> int:
        """Record every member as present, with contact fields (a full resync lists them all)."""
        await self.start_changes()
        res = await self.session.execute(
            text(
                "INSERT INTO seg_changes (profile_id, entered, email, phone_number, messaging_contact_id) "
                "SELECT m.profile_id, true, p.email, p.phone_number, p.messaging_contact_id FROM segment_members m "
                "LEFT JOIN profiles p ON p.tenant_id = m.tenant_id AND p.profile_id = m.profile_id "
                "WHERE m.tenant_id = :t AND m.segment_id = :s"
            ),
            {"t": tenant_id, "s": segment_id},
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def write_membership_events(
        self, tenant_id: str, segment_id: str, segment_name: str, at: datetime, reason: str
    ) -> int:
        """segment.member_entered / exited for every row of seg_changes, built by PostgreSQL into the outbox."""
        return await outbox.append_select(
            self.session,
            event={"entered": SegmentMemberEntered, "NOT entered": SegmentMemberExited},
            rows="SELECT entered, profile_id FROM seg_changes",
            order_by="entered, profile_id",
            payload={
                "segmentId": segment_id,
                "segmentName": segment_name,
                "profileId": Sql("profile_id"),
                "at": at,
                "reason": reason,
            },
            tenant_id=tenant_id,
            aggregate_id=segment_id,
            occurred_at=at,
            source=SOURCE,
        )

    async def write_sync_deltas(
        self, tenant_id: str, segment_id: str, segment_name: str, at: datetime, *, full_resync: bool
    ) -> int:
        """segment.sync.delta events for seg_changes, SYNC_CHUNK people each, in order. In a full resync the
        first chunk says fullResync (Messaging replaces its list) and later chunks add to it."""
        return await outbox.append_select(
            self.session,
            event=SegmentSyncDelta,
            # One row per chunk: its recipients and removed ids as comma-joined JSON, assembled by PostgreSQL.
            rows="""
              SELECT chunk,
                     COALESCE(string_agg(added, ',' ORDER BY profile_id) FILTER (WHERE entered), '') AS added,
                     COALESCE(string_agg(to_json(profile_id)::text, ',' ORDER BY profile_id)
                              FILTER (WHERE NOT entered), '') AS removed
              FROM (
                SELECT (row_number() OVER (ORDER BY profile_id) - 1) / :chunk AS chunk, profile_id, entered,
                       '{"profileId":' || to_json(profile_id)::text
                         || ',"email":' || COALESCE(to_json(email)::text, 'null')
                         || ',"phoneNumber":' || COALESCE(to_json(phone_number)::text, 'null')
                         || ',"messagingContactId":' || COALESCE(to_json(messaging_contact_id)::text, 'null')
                         || '}' AS added
                FROM seg_changes
              ) AS x
              GROUP BY chunk
            """,
            params={"chunk": SYNC_CHUNK, "full": full_resync},
            order_by="chunk",
            payload={
                "segmentId": segment_id,
                "segmentName": segment_name,
                "added": Sql("'[' || added || ']'", json=True),
                "removed": Sql("'[' || removed || ']'", json=True),
                "fullResync": Sql("chunk = 0 AND :full"),
            },
            tenant_id=tenant_id,
            aggregate_id=segment_id,
            occurred_at=at,
            source=SOURCE,
        )


SOURCE = "segmentation"
