"""All SQL on the members of segments, for one tenant.

Membership moves in two ways. One person at a time (the consumer's incremental path, static edits) goes through
`add`/`remove` and Python-built events. A whole segment at once (refresh, delete, full resync) is set-based: the
diff lands in the session's temporary `seg_changes` table and the events are written from it by SQL
(`outbox.append_select`), so a refresh that moves 100,000 people never ships their ids through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, ColumnElement, MetaData, Table, Text, and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from fairway_chassis import RepositoryBase
from fairway_events import Sql, outbox
from fairway_events.contracts.messaging_out import SegmentSyncDelta
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_segmentation.db import profiles, segment_members
from fairway_segmentation.readmodel.fields import ELIGIBLE

M = segment_members.c
P = profiles.c
SOURCE = "segmentation"
SYNC_CHUNK = 1000  # recipients per segment.sync.delta: well under Kafka's 1 MB message limit

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


@dataclass(frozen=True)
class Diff:
    size: int
    entered: int
    exited: int


@dataclass(frozen=True, slots=True)
class MemberEntry:
    """A member as the member list shows them."""

    profile_id: str
    added_at: datetime
    source: str
    first_name: str | None
    last_name: str | None
    email: str | None
    membership_tier: str | None


@dataclass(frozen=True, slots=True)
class Contact:
    """How Messaging reaches a member of a synced segment."""

    profile_id: str
    email: str | None
    phone_number: str | None
    messaging_contact_id: str | None


class MembershipRepository(RepositoryBase):
    """Members of one tenant's segments."""

    async def of_profiles(self, profile_ids: Iterable[str]) -> set[tuple[str, str]]:
        ids = list(set(profile_ids))
        if not ids:
            return set()
        rows = await self.session.execute(
            select(M.segment_id, M.profile_id).where(self.owns(segment_members), M.profile_id.in_(ids))
        )
        return {(r.segment_id, r.profile_id) for r in rows}

    async def add(
        self, segment_id: str, profile_ids: Sequence[str], source: str, at: datetime
    ) -> list[str]:
        if not profile_ids:
            return []
        stmt = insert(segment_members).values(
            [
                {
                    "tenant_id": self.tenant_id,
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

    async def remove(self, segment_id: str, profile_ids: Sequence[str]) -> list[str]:
        if not profile_ids:
            return []
        rows = await self.session.execute(
            segment_members.delete()
            .where(
                self.owns(segment_members),
                M.segment_id == segment_id,
                M.profile_id.in_(list(set(profile_ids))),
            )
            .returning(M.profile_id)
        )
        return list(rows.scalars())

    async def remove_everywhere(self, profile_id: str) -> list[tuple[str, str]]:
        """Drop the person from every segment; (segment id, source) of each membership dropped."""
        rows = await self.session.execute(
            segment_members.delete()
            .where(self.owns(segment_members), M.profile_id == profile_id)
            .returning(M.segment_id, M.source)
        )
        return [(r.segment_id, r.source) for r in rows]

    async def page(self, segment_id: str, *, after: str | None, limit: int) -> list[MemberEntry]:
        q = (
            select(M.profile_id, M.added_at, M.source, P.first_name, P.last_name, P.email, P.membership_tier)
            .select_from(
                segment_members.outerjoin(
                    profiles, and_(P.tenant_id == M.tenant_id, P.profile_id == M.profile_id)
                )
            )
            .where(self.owns(segment_members), M.segment_id == segment_id)
        )
        if after:
            q = q.where(M.profile_id > after)
        return [MemberEntry(**r) for r in (await self.session.execute(q.order_by(M.profile_id).limit(limit))).mappings()]

    async def recipients(self, profile_ids: Iterable[str]) -> dict[str, Contact]:
        ids = list(set(profile_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(P.profile_id, P.email, P.phone_number, P.messaging_contact_id).where(
                self.owns(profiles), P.profile_id.in_(ids)
            )
        )
        return {r.profile_id: Contact(**r) for r in rows.mappings()}

    async def count(self, segment_id: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(segment_members)
                    .where(self.owns(segment_members), M.segment_id == segment_id)
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

    async def diff(self, segment_id: str, where: ColumnElement[bool], at: datetime) -> Diff:
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
            .where(self.owns(profiles), ELIGIBLE, where)
            .subquery("m")
        )
        c = select(M.profile_id).where(self.owns(segment_members), M.segment_id == segment_id).subquery("c")
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
        params = {"t": self.tenant_id, "s": segment_id, "at": at}
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
        size = await self.count(segment_id)
        return Diff(size, int(entered or 0), int(exited or 0))

    async def exit_all(self, segment_id: str) -> int:
        """Record every member as leaving and remove them (the segment is being deleted)."""
        await self.start_changes()
        res = await self.session.execute(
            text(
                "WITH gone AS (DELETE FROM segment_members WHERE tenant_id = :t AND segment_id = :s "
                "RETURNING profile_id) INSERT INTO seg_changes (profile_id, entered) SELECT profile_id, false FROM gone"
            ),
            {"t": self.tenant_id, "s": segment_id},
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def all_entered(self, segment_id: str) -> int:
        """Record every member as present, with contact fields (a full resync lists them all)."""
        await self.start_changes()
        res = await self.session.execute(
            text(
                "INSERT INTO seg_changes (profile_id, entered, email, phone_number, messaging_contact_id) "
                "SELECT m.profile_id, true, p.email, p.phone_number, p.messaging_contact_id FROM segment_members m "
                "LEFT JOIN profiles p ON p.tenant_id = m.tenant_id AND p.profile_id = m.profile_id "
                "WHERE m.tenant_id = :t AND m.segment_id = :s"
            ),
            {"t": self.tenant_id, "s": segment_id},
        )
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def write_membership_events(
        self, segment_id: str, segment_name: str, at: datetime, reason: str
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
            tenant_id=self.tenant_id,
            aggregate_id=segment_id,
            occurred_at=at,
            source=SOURCE,
        )

    async def write_sync_deltas(
        self, segment_id: str, segment_name: str, at: datetime, *, full_resync: bool
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
            tenant_id=self.tenant_id,
            aggregate_id=segment_id,
            occurred_at=at,
            source=SOURCE,
        )
