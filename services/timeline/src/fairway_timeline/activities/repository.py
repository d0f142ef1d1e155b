"""All SQL on activities and the keys pending activities wait for."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_timeline.activities.records import Activity, NewActivity
from fairway_timeline.db import activities, activity_key_waits, activity_totals, profiles
from fairway_timeline.identity_map.keys import Key


@dataclass(frozen=True)
class WaitMatch:
    activity_id: uuid.UUID
    rank: int
    key_id: int
    key_profile_id: str
    current_profile_id: str | None
    current_rank: int | None
    key_type: str  # the waited-for key that matched
    key_value: str


@dataclass(frozen=True)
class TimelineResult:
    profile_id: str | None  # where the requested id's activities hang; None if the profile is unknown
    status: str | None
    total: int
    items: list[Activity]


@dataclass(frozen=True)
class TimelineQuery:
    profile_id: str
    viewer: str
    categories: Sequence[str] = ()
    types: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None


class ActivityBatchRepository:
    """Activities of a consumer batch or a sweep: spans tenants by design, so every row it writes carries its own
    tenant, and the activity ids it updates come from tenant-scoped reads (`ActivityRepository.waits_matching`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, rows: Sequence[NewActivity], recorded_at: datetime) -> set[uuid.UUID]:
        """Insert activities, skipping any whose (tenant, source service, source event id) exists; returns
        the ids actually inserted. One statement for the whole batch (arrays, not one VALUES row each)."""
        if not rows:
            return set()
        result = await self.session.execute(
            text("""
            INSERT INTO activities (id, tenant_id, profile_id, origin_profile_id, resolved_key_id, resolved_rank,
                                    type, category, title, source_service, source_event_id, occurred_at,
                                    recorded_at, payload, counts, visible_to)
            SELECT id, tenant_id, profile_id, profile_id, key_id, rnk, type, category, title, source_service,
                   source_event_id, occurred_at, :recorded_at, CAST(payload AS jsonb), counts, visible_to
              FROM unnest(CAST(:id AS uuid[]), CAST(:tenant AS text[]), CAST(:profile AS text[]),
                          CAST(:key_id AS bigint[]), CAST(:rnk AS smallint[]), CAST(:type AS text[]),
                          CAST(:category AS text[]), CAST(:title AS text[]), CAST(:source AS text[]),
                          CAST(:source_event AS text[]), CAST(:occurred AS timestamptz[]), CAST(:payload AS text[]),
                          CAST(:counts AS boolean[]), CAST(:visible_to AS text[]))
                AS u(id, tenant_id, profile_id, key_id, rnk, type, category, title, source_service,
                     source_event_id, occurred_at, payload, counts, visible_to)
            ON CONFLICT (tenant_id, source_service, source_event_id) DO NOTHING
            RETURNING id
        """),
            {
                "recorded_at": recorded_at,
                "id": [r.id for r in rows],
                "tenant": [r.tenant_id for r in rows],
                "profile": [r.profile_id for r in rows],
                "key_id": [r.resolved_key_id for r in rows],
                "rnk": [r.resolved_rank for r in rows],
                "type": [r.type for r in rows],
                "category": [r.category for r in rows],
                "title": [r.title for r in rows],
                "source": [r.source_service for r in rows],
                "source_event": [r.source_event_id for r in rows],
                "occurred": [r.occurred_at for r in rows],
                "payload": [json.dumps(r.payload, separators=(",", ":")) for r in rows],
                "counts": [r.counts for r in rows],
                "visible_to": [r.visible_to for r in rows],
            },
        )
        return set(result.scalars().all())

    async def add_waits(self, rows: Sequence[tuple[uuid.UUID, str, Key]], created_at: datetime) -> None:
        """(activity id, tenant, key) rows: the activity is re-resolved when identity announces the key."""
        if not rows:
            return
        await self.session.execute(
            text("""
            INSERT INTO activity_key_waits (activity_id, tenant_id, key_type, key_value, rank, created_at)
            SELECT a, t, kt, kv, r, :created_at
              FROM unnest(CAST(:a AS uuid[]), CAST(:t AS text[]), CAST(:kt AS text[]), CAST(:kv AS text[]),
                          CAST(:r AS smallint[])) AS u(a, t, kt, kv, r)
            ON CONFLICT DO NOTHING
        """),
            {
                "created_at": created_at,
                "a": [a for a, _, _ in rows],
                "t": [t for _, t, _ in rows],
                "kt": [k.key_type for _, _, k in rows],
                "kv": [k.value for _, _, k in rows],
                "r": [k.rank for _, _, k in rows],
            },
        )

    async def resolve(self, moves: Sequence[tuple[uuid.UUID, str, int, int]]) -> None:
        """(activity id, profile, key id, rank): the activity now hangs on that profile through that key.
        `= ANY(:a)` keeps both statements on primary keys whatever the planner guesses of the join (without it,
        a never-analysed table got a hash join over every pending activity's waits, once per announcement)."""
        if not moves:
            return
        await self.session.execute(
            text("""
            UPDATE activities a
               SET profile_id = m.profile_id, origin_profile_id = m.profile_id, resolved_key_id = m.key_id,
                   resolved_rank = m.rnk
              FROM unnest(CAST(:a AS uuid[]), CAST(:p AS text[]), CAST(:k AS bigint[]), CAST(:r AS smallint[]))
                AS m(id, profile_id, key_id, rnk)
             WHERE a.id = ANY(CAST(:a AS uuid[])) AND a.id = m.id
        """),
            {
                "a": [m[0] for m in moves],
                "p": [m[1] for m in moves],
                "k": [m[2] for m in moves],
                "r": [m[3] for m in moves],
            },
        )
        # Keys of equal or lower priority can no longer improve the resolution.
        await self.session.execute(
            text("""
            DELETE FROM activity_key_waits w
             USING unnest(CAST(:a AS uuid[]), CAST(:r AS smallint[])) AS m(id, rnk)
             WHERE w.activity_id = ANY(CAST(:a AS uuid[])) AND w.activity_id = m.id AND w.rank >= m.rnk
        """),
            {"a": [m[0] for m in moves], "r": [m[3] for m in moves]},
        )

    async def purge_pending(self, before: datetime) -> int:
        """Pending activities whose keys identity never announced, and stale waits of resolved ones."""
        result = await self.session.execute(
            delete(activities).where(activities.c.profile_id.is_(None), activities.c.recorded_at < before)
        )
        await self.session.execute(delete(activity_key_waits).where(activity_key_waits.c.created_at < before))
        return result.rowcount or 0

    async def pending_count(self) -> int:
        """Pending activities of every tenant (the sweep's gauge)."""
        return (
            await self.session.execute(select(func.count()).select_from(activities).where(activities.c.profile_id.is_(None)))
        ).scalar_one()


class ActivityRepository(RepositoryBase):
    """One tenant's activities: every statement carries the tenant condition itself."""

    async def add(self, row: NewActivity, recorded_at: datetime) -> bool:
        """One activity of this tenant (a staff note); False when it exists already."""
        if row.tenant_id != self.tenant_id:
            raise ValueError("an activity of another tenant")
        return bool(await ActivityBatchRepository(self.session).insert([row], recorded_at))

    async def waits_matching(self, keys: Sequence[Key]) -> list[WaitMatch]:
        """Activities waiting for any of `keys`, joined to the key rows identity announced for them."""
        if not keys:
            return []
        rows = (
            await self.session.execute(
                text("""
            SELECT w.activity_id, w.rank, k.id AS key_id, k.profile_id AS key_profile_id,
                   a.profile_id AS current_profile_id, a.resolved_rank AS current_rank, w.key_type, w.key_value
              FROM unnest(CAST(:kt AS text[]), CAST(:kv AS text[])) AS u(key_type, key_value)
              JOIN activity_key_waits w ON w.tenant_id = :t AND w.key_type = u.key_type AND w.key_value = u.key_value
              JOIN profile_keys k ON k.tenant_id = :t AND k.key_type = w.key_type AND k.key_value = w.key_value
              JOIN activities a ON a.id = w.activity_id
        """),
                {"t": self.tenant_id, "kt": [k.key_type for k in keys], "kv": [k.value for k in keys]},
            )
        ).all()
        return [
            WaitMatch(r.activity_id, r.rank, r.key_id, r.key_profile_id, r.current_profile_id, r.current_rank,
                      r.key_type, r.key_value)
            for r in rows
        ]

    async def move_all(self, from_profile: str, to_profile: str) -> int:
        result = await self.session.execute(
            update(activities)
            .where(activities.c.tenant_id == self.tenant_id, activities.c.profile_id == from_profile)
            .values(profile_id=to_profile)
        )
        return result.rowcount or 0

    async def move_back(
        self, from_profile: str, to_profile: str, origins: Sequence[str]
    ) -> int:
        """Unmerge: activities on `from_profile` go to `to_profile` when the key that resolved them now points
        there, or, for activities without a key (notes), when they were first resolved to one of `origins`."""
        result = await self.session.execute(
            text("""
            UPDATE activities a SET profile_id = :to
             WHERE a.tenant_id = :t AND a.profile_id = :from
               AND (EXISTS (SELECT 1 FROM profile_keys k WHERE k.id = a.resolved_key_id AND k.profile_id = :to)
                    OR (NOT EXISTS (SELECT 1 FROM profile_keys k WHERE k.id = a.resolved_key_id)
                        AND a.origin_profile_id = ANY(CAST(:origins AS text[]))))
        """),
            {"t": self.tenant_id, "from": from_profile, "to": to_profile, "origins": list(origins)},
        )
        return result.rowcount or 0

    async def delete_for_profiles(self, profile_ids: Sequence[str]) -> int:
        result = await self.session.execute(
            delete(activities).where(
                activities.c.tenant_id == self.tenant_id,
                or_(
                    activities.c.profile_id.in_(profile_ids), activities.c.origin_profile_id.in_(profile_ids)
                ),
            )
        )
        return result.rowcount or 0

    async def forget_totals(self, profile_ids: Sequence[str]) -> None:
        """Erasure: the trigger left zeroes behind; the rows themselves go too."""
        await self.session.execute(
            delete(activity_totals).where(
                activity_totals.c.tenant_id == self.tenant_id, activity_totals.c.profile_id.in_(profile_ids)
            )
        )

    async def delete_waiting_on(self, keys: Sequence[tuple[str, str]]) -> int:
        """Erasure: pending activities waiting for the erased keys go; provisional ones only lose the wait."""
        if not keys:
            return 0
        pairs = tuple_(activity_key_waits.c.key_type, activity_key_waits.c.key_value).in_(list(keys))
        waiting = select(activity_key_waits.c.activity_id).where(
            activity_key_waits.c.tenant_id == self.tenant_id, pairs
        )
        result = await self.session.execute(
            delete(activities).where(
                activities.c.tenant_id == self.tenant_id,
                activities.c.profile_id.is_(None),
                activities.c.id.in_(waiting),
            )
        )
        await self.session.execute(
            delete(activity_key_waits).where(activity_key_waits.c.tenant_id == self.tenant_id, pairs)
        )
        return result.rowcount or 0

    async def delete_note_activity(self, note_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(activities).where(
                activities.c.tenant_id == self.tenant_id,
                activities.c.source_service == "timeline",
                activities.c.source_event_id == str(note_id),
            )
        )

    async def set_note_visibility(
        self, note_id: uuid.UUID, visible_to: str | None, title: str
    ) -> None:
        await self.session.execute(
            update(activities)
            .where(
                activities.c.tenant_id == self.tenant_id,
                activities.c.source_service == "timeline",
                activities.c.source_event_id == str(note_id),
            )
            .values(visible_to=visible_to, title=title)
        )

    async def timeline(
        self, q: TimelineQuery, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> TimelineResult:
        """One round trip: follow `q.profile_id` through merges to the profile its activities hang on, count what
        matches the filters, and read one page, newest first (keyset on occurred_at, id, so pages stay stable
        while activities arrive)."""
        shape = (bool(q.categories), bool(q.types), q.start is not None, q.end is not None, after is not None)
        params = {
            "tenant": self.tenant_id,
            "profile": q.profile_id,
            "viewer": q.viewer,
            "limit": limit,
            "categories": list(q.categories),
            "types": list(q.types),
            "start": q.start,
            "end": q.end,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
        }
        rows = (await self.session.execute(_timeline_statement(*shape), params)).all()
        if not rows:
            return TimelineResult(None, None, 0, [])
        root = rows[0].root
        items = [
            Activity(
                profile_id=root,
                id=r.id,
                type=r.type,
                category=r.category,
                title=r.title,
                source_service=r.source_service,
                source_event_id=r.source_event_id,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                payload=r.payload,
            )
            for r in rows
            if r.id is not None
        ]
        return TimelineResult(root, rows[0].status, rows[0].total, items)

    async def pending_count(self) -> int:
        a = activities.c
        where = [a.profile_id.is_(None), a.tenant_id == self.tenant_id]
        return (
            await self.session.execute(select(func.count()).select_from(activities).where(*where))
        ).scalar_one()


@functools.lru_cache(maxsize=64)
def _timeline_statement(categories: bool, types: bool, start: bool, end: bool, after: bool) -> Select:
    """The timeline query for one combination of filters, built once with bind parameters: building this
    statement costs more Python time than PostgreSQL needs to run it."""
    tenant = bindparam("tenant", type_=String)
    viewer = bindparam("viewer", type_=String)
    filtered = categories or types or start or end
    asked, root = profiles.alias("asked"), profiles.alias("root")
    a = activities.c
    columns = [root.c.profile_id, root.c.status]
    if not filtered:
        # Unfiltered: the trigger-kept count of what everyone sees, plus the viewer's own private notes.
        t = activity_totals.c
        public = select(t.public_count).where(t.tenant_id == tenant, t.profile_id == root.c.profile_id)
        private = (
            select(func.count())
            .select_from(activities)
            .where(a.tenant_id == tenant, a.profile_id == root.c.profile_id, a.visible_to == viewer)
        )
        columns.append(
            (func.coalesce(public.scalar_subquery(), 0) + private.scalar_subquery()).label("total")
        )
    target = (
        select(*columns)
        .select_from(
            asked.join(
                root, and_(root.c.tenant_id == asked.c.tenant_id, root.c.profile_id == asked.c.root_id)
            )
        )
        .where(asked.c.tenant_id == tenant, asked.c.profile_id == bindparam("profile", type_=String))
        # One profile at most; the LIMIT also keeps PostgreSQL from inlining this subquery and computing the
        # total once per row of the page.
        .limit(1)
        .subquery("target")
    )

    cond = [
        a.tenant_id == tenant,
        a.profile_id == target.c.profile_id,
        or_(a.visible_to.is_(None), a.visible_to == viewer),
    ]
    if categories:
        cond.append(a.category == any_(bindparam("categories", type_=ARRAY(String))))
    if types:
        cond.append(a.type == any_(bindparam("types", type_=ARRAY(String))))
    if start:
        cond.append(a.occurred_at >= bindparam("start", type_=DateTime(timezone=True)))
    if end:
        cond.append(a.occurred_at < bindparam("end", type_=DateTime(timezone=True)))
    source = target
    total_column = target.c.total if not filtered else None
    if filtered:
        total = select(func.count().label("total")).select_from(activities).where(*cond).lateral("total")
        source, total_column = target.join(total, true()), total.c.total
    if after:
        after_key = tuple_(
            bindparam("after_at", type_=DateTime(timezone=True)),
            bindparam("after_id", type_=UUID(as_uuid=True)),
        )
        cond.append(tuple_(a.occurred_at, a.id) < after_key)
    page = (
        select(
            a.id,
            a.type,
            a.category,
            a.title,
            a.source_service,
            a.source_event_id,
            a.occurred_at,
            a.recorded_at,
            a.payload,
        )
        .where(*cond)
        .order_by(a.occurred_at.desc(), a.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .lateral("page")
    )
    return (
        select(target.c.profile_id.label("root"), target.c.status, total_column, *page.c)
        .select_from(source.outerjoin(page, true()))
        .order_by(page.c.occurred_at.desc(), page.c.id.desc())
    )
