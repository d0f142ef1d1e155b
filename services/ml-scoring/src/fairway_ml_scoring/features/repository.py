"""SQL of the feature log, the identity map and the profiles identity announced."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, any_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fairway_chassis import RepositoryBase
from fairway_ml_scoring.db import (
    ml_churn_predictions,
    ml_events,
    ml_identity_keys,
    ml_parked_keys,
    ml_profiles,
    ml_scores,
)
from fairway_ml_scoring.features.engine import EventLog

ACTIVE = "ACTIVE"


class FeatureLogRepository(RepositoryBase):
    """One tenant's feature log, identity map and profiles: every statement carries the tenant itself."""

    # -- identity map ------------------------------------------------------------------------------------
    async def resolve(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = await self.session.execute(
            select(ml_identity_keys.c.key, ml_identity_keys.c.profile_id).where(
                ml_identity_keys.c.tenant_id == self.tenant_id, ml_identity_keys.c.key.in_(list(set(keys)))
            )
        )
        return {r.key: r.profile_id for r in rows}

    async def link(self, profile_id: str, keys: Sequence[str]) -> set[str]:
        """Map keys to the profile and move provisional events carrying them; returns the subjects moved away."""
        return await self.link_many([(profile_id, keys)])

    async def link_many(self, links: Sequence[tuple[str, Sequence[str]]]) -> set[str]:
        """`link` of several profiles, as if in order, in four statements; a key belongs to one of them."""
        owner: dict[str, str] = {}
        for profile_id, keys in links:
            for k in keys:
                owner.setdefault(k, profile_id)
        if not owner:
            return set()
        await self.session.execute(
            text(
                "INSERT INTO ml_identity_keys (tenant_id, key, profile_id) "
                "SELECT :t, k, p FROM unnest(CAST(:k AS text[]), CAST(:p AS text[])) AS u(k, p) "
                "ON CONFLICT (tenant_id, key) DO UPDATE SET profile_id = EXCLUDED.profile_id"
            ),
            {"t": self.tenant_id, "k": list(owner), "p": list(owner.values())},
        )
        order = {profile_id: i for i, (profile_id, _) in reversed(list(enumerate(links)))}
        return await self._unpark(owner, order)

    async def _unpark(self, owner: dict[str, str], order: dict[str, int]) -> set[str]:
        """Move the parked events of the keys in `owner` to the keys' profiles: through ml_parked_keys' primary
        key, then ml_events' (each an index lookup per row, whatever the statistics say); returns the subjects
        left. An event parked under keys of several profiles goes to the first linked (as in order: the first
        link takes it, and it waits no more)."""
        parked: dict[str, str] = {}
        target: dict[str, str] = {}
        for r in await self.session.execute(
            delete(ml_parked_keys)
            .where(ml_parked_keys.c.tenant_id == self.tenant_id, ml_parked_keys.c.key == any_(_texts(list(owner))))
            .returning(ml_parked_keys.c.event_id, ml_parked_keys.c.subject_id, ml_parked_keys.c.key)
        ):
            parked[r.event_id] = r.subject_id
            to = owner[r.key]
            if r.event_id not in target or order[to] < order[target[r.event_id]]:
                target[r.event_id] = to
        if not parked:
            return set()
        ids = list(parked)
        # The events' other keys wait no more either.
        await self.session.execute(
            delete(ml_parked_keys).where(
                ml_parked_keys.c.tenant_id == self.tenant_id, ml_parked_keys.c.event_id == any_(_texts(ids))
            )
        )
        moved = await self.session.execute(
            text(
                "UPDATE ml_events e SET subject_id = m.p, resolved = true, received_at = now() "
                "FROM unnest(CAST(:e AS text[]), CAST(:p AS text[])) AS m(e, p) "
                "WHERE e.tenant_id = :t AND e.event_id = ANY(CAST(:e AS text[])) AND e.event_id = m.e "
                "AND e.resolved IS false RETURNING e.event_id"
            ),
            {"t": self.tenant_id, "e": ids, "p": [target[i] for i in ids]},
        )
        return {parked[r.event_id] for r in moved if parked[r.event_id] != target[r.event_id]}

    async def _move(self, to: str, condition: Any) -> set[str]:
        old = (
            select(ml_events.c.event_id, ml_events.c.subject_id.label("old_subject"))
            .where(ml_events.c.tenant_id == self.tenant_id, condition)
            .subquery()
        )
        rows = await self.session.execute(
            update(ml_events)
            .where(ml_events.c.tenant_id == self.tenant_id, ml_events.c.event_id == old.c.event_id)
            .values(subject_id=to, resolved=True, received_at=func.now())
            .returning(old.c.old_subject)
        )
        return {r.old_subject for r in rows} - {to}

    async def merge(self, winner: str, loser: str, winner_keys: Sequence[str]) -> set[str]:
        moved = await self._move(winner, ml_events.c.subject_id == loser)
        await self.link(winner, winner_keys)
        await self.upsert_profile(loser, "MERGED", merged_into=winner)
        return moved | {loser}

    async def unmerge(
        self,
        winner: str,
        restored: str,
        winner_keys: Sequence[str],
        restored_keys: Sequence[str],
    ) -> None:
        """Give the restored profile back the events whose keys are only its own."""
        await self.link(restored, restored_keys)
        await self.link(winner, winner_keys)
        only_restored = [k for k in restored_keys if k not in set(winner_keys)]
        if only_restored:
            await self._move(
                restored,
                and_(ml_events.c.subject_id == winner, ml_events.c["keys"].overlap(only_restored)),
            )
        await self.upsert_profile(restored, ACTIVE)

    async def erase(self, profile_id: str) -> None:
        keys = [
            r.key
            for r in await self.session.execute(
                select(ml_identity_keys.c.key).where(
                    ml_identity_keys.c.tenant_id == self.tenant_id, ml_identity_keys.c.profile_id == profile_id
                )
            )
        ]
        cond = ml_events.c.subject_id == profile_id
        if keys:
            cond = or_(cond, ml_events.c["keys"].overlap(keys))
            await self.session.execute(
                delete(ml_parked_keys).where(
                    ml_parked_keys.c.tenant_id == self.tenant_id, ml_parked_keys.c.key == any_(_texts(keys))
                )
            )
        await self.session.execute(delete(ml_events).where(ml_events.c.tenant_id == self.tenant_id, cond))
        await self.session.execute(
            delete(ml_identity_keys).where(
                ml_identity_keys.c.tenant_id == self.tenant_id, ml_identity_keys.c.profile_id == profile_id
            )
        )
        for table in (ml_scores, ml_churn_predictions):
            await self.session.execute(
                delete(table).where(table.c.tenant_id == self.tenant_id, table.c.subject_id == profile_id)
            )
        await self.upsert_profile(profile_id, "DELETED")

    async def upsert_profile(
        self,
        profile_id: str,
        status: str,
        *,
        segment: str | None = None,
        merged_into: str | None = None,
    ) -> None:
        await self.upsert_profiles([(profile_id, status, segment)], merged_into=merged_into)

    async def upsert_profiles(
        self, rows: Sequence[tuple[str, str, str | None]], *, merged_into: str | None = None
    ) -> None:
        """(profile id, status, segment) rows in one statement; a segment of None keeps the one recorded."""
        if not rows:
            return
        await self.session.execute(
            text(
                "INSERT INTO ml_profiles (tenant_id, profile_id, status, merged_into, segment, updated_at) "
                "SELECT :t, p, s, :m, g, now() "
                "FROM unnest(CAST(:p AS text[]), CAST(:s AS text[]), CAST(:g AS text[])) AS u(p, s, g) "
                "ON CONFLICT (tenant_id, profile_id) DO UPDATE SET status = EXCLUDED.status, "
                "merged_into = EXCLUDED.merged_into, segment = COALESCE(EXCLUDED.segment, ml_profiles.segment), "
                "updated_at = now()"
            ),
            {"t": self.tenant_id, "m": merged_into, "p": [r[0] for r in rows], "s": [r[1] for r in rows],
             "g": [r[2] for r in rows]},
        )

    async def set_segment(self, profile_id: str, segment: str) -> None:
        stmt = insert(ml_profiles).values(
            tenant_id=self.tenant_id, profile_id=profile_id, status=ACTIVE, segment=segment
        )
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["tenant_id", "profile_id"], set_={"segment": segment})
        )

    async def profile_status(self, profile_id: str) -> tuple[str, str | None] | None:
        row = (
            await self.session.execute(
                select(ml_profiles.c.status, ml_profiles.c.segment).where(
                    ml_profiles.c.tenant_id == self.tenant_id, ml_profiles.c.profile_id == profile_id
                )
            )
        ).first()
        return (row.status, row.segment) if row else None

    async def segment_of(self, subject_id: str) -> str | None:
        got = await self.profile_status(subject_id)
        return got[1] if got else None

    # -- the log ---------------------------------------------------------------------------------------
    async def load(
        self, subjects: Sequence[str] | None = None, until: datetime | None = None
    ) -> EventLog:
        """The events of a tenant (or of some subjects), as a point-in-time queryable log."""
        q = select(
            ml_events.c.subject_id,
            ml_events.c.kind,
            ml_events.c.occurred_at,
            ml_events.c.amount,
            ml_events.c.attrs,
        ).where(ml_events.c.tenant_id == self.tenant_id)
        if subjects is not None:
            if not subjects:
                return EventLog.empty()
            q = q.where(ml_events.c.subject_id.in_(list(set(subjects))))
        if until is not None:
            q = q.where(ml_events.c.occurred_at <= until)
        result = await self.session.execute(q)
        return EventLog.from_rows((r.subject_id, r.kind, r.occurred_at, r.amount, r.attrs) for r in result)

    async def last_received(self, subject_id: str) -> datetime | None:
        """When the subject's log last changed (an event arrived or moved to it)."""
        return (
            await self.session.execute(
                select(func.max(ml_events.c.received_at)).where(
                    ml_events.c.tenant_id == self.tenant_id, ml_events.c.subject_id == subject_id
                )
            )
        ).scalar()

    async def known_subject(self, subject_id: str) -> bool:
        """Only a profile identity announced (and did not merge away or erase) is a customer here: events of
        keys it has not resolved yet are held back, never answered for under a key hash."""
        status = await self.profile_status(subject_id)
        return status is not None and status[0] == ACTIVE

    async def subjects(self) -> list[str]:
        """Every scoreable subject of a tenant: subjects with events, plus active profiles without any."""
        rows = await self.session.execute(
            text(
                "SELECT subject_id FROM ml_events WHERE tenant_id = :t GROUP BY subject_id "
                "UNION SELECT profile_id FROM ml_profiles WHERE tenant_id = :t AND status = 'ACTIVE' "
                "EXCEPT SELECT profile_id FROM ml_profiles WHERE tenant_id = :t AND status <> 'ACTIVE' "
                "ORDER BY 1"
            ),
            {"t": self.tenant_id},
        )
        return [r[0] for r in rows]

    async def open_times(
        self,
        since: datetime,
        subject_id: str | None = None,
        segment: str | None = None,
    ) -> list[datetime]:
        """When opens happened (email and push), for send-time profiles and their pooled priors."""
        q = select(ml_events.c.occurred_at).where(
            ml_events.c.kind.in_(("email_opened", "push_opened", "email_clicked")),
            ml_events.c.occurred_at >= since,
        )
        q = q.where(ml_events.c.tenant_id == self.tenant_id)
        if subject_id is not None:
            q = q.where(ml_events.c.subject_id == subject_id)
        if segment is not None:
            q = q.where(
                ml_events.c.subject_id.in_(
                    select(ml_profiles.c.profile_id).where(
                        ml_profiles.c.tenant_id == self.tenant_id, ml_profiles.c.segment == segment
                    )
                )
            )
        return [r.occurred_at for r in await self.session.execute(q)]

    async def open_times_of(self, subjects: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """`open_times` of several members in one statement: subject -> when they opened."""
        if not subjects:
            return {}
        rows = await self.session.execute(
            select(ml_events.c.subject_id, ml_events.c.occurred_at).where(
                ml_events.c.tenant_id == self.tenant_id,
                ml_events.c.subject_id == any_(_texts(subjects)),
                ml_events.c.kind.in_(("email_opened", "push_opened", "email_clicked")),
                ml_events.c.occurred_at >= since,
            )
        )
        out: dict[str, list[datetime]] = {}
        for subject, at in rows:
            out.setdefault(subject, []).append(at)
        return out

    async def segments_of(self, subjects: Sequence[str]) -> dict[str, str | None]:
        if not subjects:
            return {}
        rows = await self.session.execute(
            select(ml_profiles.c.profile_id, ml_profiles.c.segment).where(
                ml_profiles.c.tenant_id == self.tenant_id, ml_profiles.c.profile_id == any_(_texts(subjects))
            )
        )
        return {r.profile_id: r.segment for r in rows}

    async def message_counts(self, subject_id: str, since: datetime) -> dict[str, int]:
        rows = await self.session.execute(
            select(ml_events.c.kind, func.count())
            .where(
                ml_events.c.tenant_id == self.tenant_id,
                ml_events.c.subject_id == subject_id,
                ml_events.c.occurred_at >= since,
                ml_events.c.kind.in_(
                    ("email_sent", "email_opened", "email_clicked", "push_sent", "push_opened")
                ),
            )
            .group_by(ml_events.c.kind)
        )
        return {k: int(n) for k, n in rows}



class FeatureLogBatchRepository:
    """The consumer's appends and the jobs' tenant list: span tenants by design; every row carries its tenant."""

    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        self.session = session

    async def append(self, rows: list[dict[str, Any]]) -> list[str]:
        """Insert events (a redelivered event id is ignored); returns the subjects of new rows."""
        if not rows:
            return []
        # executemany ("insertmanyvalues"): far cheaper to compile than one giant VALUES list.
        stmt = (
            insert(ml_events)
            .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
            .returning(ml_events.c.subject_id)
        )
        result = await self.session.execute(stmt, rows)
        subjects = [r.subject_id for r in result]
        parked = [(r["tenant_id"], k, r["event_id"], r["subject_id"]) for r in rows if not r["resolved"]
                  for k in r["keys"]]
        if parked:  # one statement, whatever the batch: arrays, not a VALUES list to compile
            await self.session.execute(
                text(
                    "INSERT INTO ml_parked_keys (tenant_id, key, event_id, subject_id) "
                    "SELECT * FROM unnest(CAST(:t AS text[]), CAST(:k AS text[]), CAST(:e AS text[]), "
                    "CAST(:s AS text[])) ON CONFLICT DO NOTHING"
                ),
                {"t": [p[0] for p in parked], "k": [p[1] for p in parked], "e": [p[2] for p in parked],
                 "s": [p[3] for p in parked]},
            )
        return subjects

    async def tenants(self) -> list[str]:
        rows = await self.session.execute(
            text(
                "SELECT DISTINCT tenant_id FROM ml_events UNION SELECT DISTINCT tenant_id FROM ml_profiles ORDER BY 1"
            )
        )
        return [r[0] for r in rows]

    async def open_times_everywhere(self, since: datetime) -> list[datetime]:
        """Open times of every club: the last pooled prior of send times (only counts per hour leave it)."""
        q = select(ml_events.c.occurred_at).where(
            ml_events.c.kind.in_(("email_opened", "push_opened", "email_clicked")), ml_events.c.occurred_at >= since
        )
        return [r.occurred_at for r in await self.session.execute(q)]


def _texts(values: Sequence[str]) -> Any:
    """One array parameter (`= ANY(:p)`): any number of values, one plan."""
    return bindparam(None, list(values), type_=ARRAY(Text))
