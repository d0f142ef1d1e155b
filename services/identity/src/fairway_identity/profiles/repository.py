"""SQL of profiles: locking, saving, reading, listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_identity.jsonutil import dumps
from fairway_identity.profiles.records import KeyRecord, LiveProfile, ProfileRecord, live_profile

# Insert new and update changed profiles from one JSON document (:profiles). Also part of the consumer's
# single write statement (resolution.repository). A row never updates another tenant's profile of the same id.
PROFILE_UPSERT = """
    INSERT INTO profile AS p (id, tenant_id, status, merged_into, lifecycle_stage, tags, attributes, consent,
                              identities, state, distinct_from)
    SELECT x.id, x.t, x.st, x.m, x.lc, x.tags, x.a, x.c, x.i, x.s, x.d
      FROM json_to_recordset(CAST(:profiles AS json))
           AS x(id uuid, t text, st text, m uuid, lc text, tags jsonb, a jsonb, c jsonb, i jsonb, s jsonb, d jsonb)
    ON CONFLICT (id) DO UPDATE SET
        status = EXCLUDED.status, merged_into = EXCLUDED.merged_into, lifecycle_stage = EXCLUDED.lifecycle_stage,
        tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, consent = EXCLUDED.consent,
        identities = EXCLUDED.identities, state = EXCLUDED.state, distinct_from = EXCLUDED.distinct_from,
        revision = p.revision + 1, updated_at = now()
    WHERE p.tenant_id = EXCLUDED.tenant_id
"""


def profile_rows(profiles: Sequence[LiveProfile]) -> str:
    """The :profiles document of PROFILE_UPSERT."""
    rows = []
    for p in profiles:
        s = p.state
        rows.append(
            {
                "id": p.id,
                "t": p.tenant_id,
                "st": p.status,
                "m": p.merged_into,
                "lc": s.lifecycle_stage(),
                "tags": s.tag_list(),
                "a": s.attributes(),
                "c": {"flags": s.consent_values(), "changedAt": s.consent_times()},
                "i": {t: v for t, v in s.keys.items() if v},
                "s": s.to_dict(),
                "d": sorted(p.distinct_from),
            }
        )
    return dumps(rows)


_PROFILE_COLUMNS = """
    id::text AS id, tenant_id, status, merged_into::text AS merged_into, lifecycle_stage, tags, attributes, consent,
    identities, state, revision, created_at, updated_at, erased_at
"""
_READ = f"SELECT {_PROFILE_COLUMNS} FROM profile WHERE tenant_id = :t"  # noqa: S608 (constants only)
_LOCK = """
    SELECT id::text AS id, tenant_id, status, merged_into::text AS merged_into, state::text AS state,
           identities::text AS identities, distinct_from::text AS distinct_from
      FROM profile p
"""


def _keys_by_profile(profile_ids: Sequence[str], rows: Sequence[Any]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {p: {} for p in profile_ids}
    for r in rows:
        out[r.p].setdefault(r.key_type, []).append(r.value)
    return out


class ProfileRepository(RepositoryBase):
    """Profiles and their keys, of one tenant."""

    async def lock_profiles(self, ids: Iterable[str]) -> dict[str, LiveProfile]:
        """Load and lock (in id order, so concurrent transactions do not deadlock) these profiles."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = (
            await self.session.execute(
                text(_LOCK + " WHERE tenant_id = :t AND id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"),
                {"t": self.tenant_id, "ids": ids},
            )
        ).all()
        return {r.id: live_profile(r) for r in rows}

    async def move_keys(self, moves: Sequence[tuple[str, str]]) -> None:
        """(loser, winner): the loser's keys now belong to the winner."""
        await ProfileBatchRepository(self.session).move_keys([(self.tenant_id, lo, w) for lo, w in moves])

    async def save_profiles(self, profiles: Sequence[LiveProfile]) -> None:
        """Insert new and update changed profiles in one statement."""
        if any(p.tenant_id != self.tenant_id for p in profiles):
            raise ValueError("a profile of another tenant")
        if profiles:
            await self.session.execute(text(PROFILE_UPSERT), {"profiles": profile_rows(profiles)})

    # -- reads ------------------------------------------------------------------------------------------
    async def root_of(self, profile_id: str) -> tuple[str, str] | None:
        """(id, status) of the profile `profile_id` ends up in, following merges; None if unknown here."""
        row = (
            await self.session.execute(
                text("""
            WITH RECURSIVE chain(id, merged_into, status, depth) AS (
                SELECT id, merged_into, status, 0 FROM profile WHERE tenant_id = :t AND id = CAST(:id AS uuid)
                UNION ALL
                SELECT p.id, p.merged_into, p.status, c.depth + 1
                  FROM profile p JOIN chain c ON p.id = c.merged_into
                 WHERE p.tenant_id = :t AND c.depth < 100
            )
            SELECT id::text AS id, status FROM chain ORDER BY depth DESC LIMIT 1
        """),
                {"t": self.tenant_id, "id": profile_id},
            )
        ).first()
        return (row.id, row.status) if row else None

    async def read(self, profile_id: str) -> ProfileRecord | None:
        row = (
            await self.session.execute(
                text(_READ + " AND id = CAST(:id AS uuid)"),
                {"t": self.tenant_id, "id": profile_id},
            )
        ).first()
        return ProfileRecord(**row._mapping) if row else None

    async def read_many(self, profile_ids: Iterable[str]) -> dict[str, ProfileRecord]:
        rows = (
            await self.session.execute(
                text(_READ + " AND id = ANY(CAST(:ids AS uuid[]))"),
                {"t": self.tenant_id, "ids": sorted(set(profile_ids))},
            )
        ).all()
        return {r.id: ProfileRecord(**r._mapping) for r in rows}

    async def search(
        self,
        *,
        statuses: list[str],
        profile_ids: list[str] | None,
        tier: str | None,
        tag: str | None,
        q: str | None,
        after: str | None,
        limit: int,
    ) -> list[ProfileRecord]:
        """Newest first; `after` is the last id of the previous page."""
        like = None
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
        rows = (
            await self.session.execute(
                text(f"""
            SELECT {_PROFILE_COLUMNS}
              FROM profile
             WHERE tenant_id = :t AND status = ANY(CAST(:statuses AS text[]))
               AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
               AND (CAST(:tier AS text) IS NULL OR lower(attributes->>'membershipTier') = lower(:tier))
               AND (CAST(:tag AS text) IS NULL OR tags ? :tag)
               AND (CAST(:like AS text) IS NULL
                    OR lower(coalesce(attributes->>'firstName', '') || ' ' || coalesce(attributes->>'lastName', '')
                             || ' ' || identities::text) LIKE :like)
               AND (CAST(:after AS uuid) IS NULL OR id < CAST(:after AS uuid))
             ORDER BY id DESC LIMIT :limit
        """),  # noqa: S608 (constant column list)
                {
                    "t": self.tenant_id,
                    "statuses": statuses,
                    "ids": profile_ids,
                    "tier": tier,
                    "tag": tag,
                    "like": like,
                    "after": after,
                    "limit": limit,
                },
            )
        ).all()
        return [ProfileRecord(**r._mapping) for r in rows]

    async def owners(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Owner profile of each (keyType, value)."""
        if not keys:
            return {}
        rows = (
            await self.session.execute(
                text("""
            SELECT k.key_type, k.value, k.profile_id::text AS profile_id
              FROM identity_key k
              JOIN unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS q(key_type, value) USING (key_type, value)
             WHERE k.tenant_id = :t
        """),
                {"t": self.tenant_id, "k": [k for k, _ in keys], "v": [v for _, v in keys]},
            )
        ).all()
        return {(r.key_type, r.value): r.profile_id for r in rows}

    async def blocked(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        rows = (
            await self.session.execute(
                text("""
            SELECT b.key_type, b.value FROM blocked_value b
              JOIN unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS q(key_type, value) USING (key_type, value)
             WHERE b.tenant_id = :t
        """),
                {"t": self.tenant_id, "k": [k for k, _ in keys], "v": [v for _, v in keys]},
            )
        ).all()
        return {(r.key_type, r.value) for r in rows}

    async def tree(self, root: str) -> list[str]:
        """The root and every profile merged into it, directly or not (just the root if it is not this tenant's,
        as the recursion only follows this tenant's profiles)."""
        rows = (
            await self.session.execute(
                text("""
            WITH RECURSIVE t(id, depth) AS (
                SELECT id, 0 FROM profile WHERE tenant_id = :t AND id = CAST(:root AS uuid)
                UNION ALL
                SELECT p.id, t.depth + 1 FROM profile p JOIN t ON p.merged_into = t.id
                 WHERE p.tenant_id = :t AND t.depth < 100
            )
            SELECT id::text AS id FROM t
        """),
                {"t": self.tenant_id, "root": root},
            )
        ).all()
        return [r.id for r in rows]

    async def key_rows(self, profile_id: str) -> list[KeyRecord]:
        rows = (
            await self.session.execute(
                text("""
            SELECT key_type, value, source_event_id, linked_at FROM identity_key
             WHERE tenant_id = :t AND profile_id = CAST(:p AS uuid) ORDER BY linked_at, key_type
        """),
                {"t": self.tenant_id, "p": profile_id},
            )
        ).all()
        return [KeyRecord(**r._mapping) for r in rows]

    async def keys_of(self, profile_ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        """Every key each profile owns, from identity_key, in link order."""
        return await ProfileBatchRepository(self.session).keys_of([(self.tenant_id, p) for p in profile_ids])

    async def set_keys(self, profile_id: str, keys: dict[str, list[str]]) -> None:
        """Give these keys to `profile_id` (unmerge hands keys back to the restored profile)."""
        pairs = [(t, v) for t, vs in keys.items() for v in vs]
        if pairs:
            await self.session.execute(
                text("""
                UPDATE identity_key k SET profile_id = CAST(:p AS uuid)
                  FROM unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS q(key_type, value)
                 WHERE k.tenant_id = :t AND k.key_type = q.key_type AND k.value = q.value
            """),
                {"t": self.tenant_id, "p": profile_id, "k": [t for t, _ in pairs], "v": [v for _, v in pairs]},
            )


class ProfileBatchRepository:
    """The resolution consumer's profile SQL: a batch holds many tenants' events, so every statement takes
    (tenant, id) pairs and matches each row on both, in one round trip."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_profiles(self, refs: Iterable[tuple[str, str]]) -> dict[str, LiveProfile]:
        """Load and lock (in id order, so concurrent batches do not deadlock) these (tenant, id) profiles."""
        refs = sorted(set(refs), key=lambda r: r[1])
        if not refs:
            return {}
        rows = (
            await self.session.execute(
                text(
                    _LOCK + " JOIN unnest(CAST(:t AS text[]), CAST(:ids AS uuid[])) AS q(tenant_id, id) "
                    "USING (tenant_id, id) ORDER BY p.id FOR UPDATE OF p"
                ),
                {"t": [t for t, _ in refs], "ids": [i for _, i in refs]},
            )
        ).all()
        return {r.id: live_profile(r) for r in rows}

    async def move_keys(self, moves: Sequence[tuple[str, str, str]]) -> None:
        """(tenant, loser, winner): the loser's keys now belong to the winner."""
        if moves:
            await self.session.execute(
                text("""
                UPDATE identity_key k SET profile_id = m.winner
                  FROM unnest(CAST(:t AS text[]), CAST(:l AS uuid[]), CAST(:w AS uuid[])) AS m(tenant_id, loser, winner)
                 WHERE k.tenant_id = m.tenant_id AND k.profile_id = m.loser
            """),
                {"t": [m[0] for m in moves], "l": [m[1] for m in moves], "w": [m[2] for m in moves]},
            )

    async def keys_of(self, refs: Sequence[tuple[str, str]]) -> dict[str, dict[str, list[str]]]:
        """Every key each (tenant, id) profile owns, from identity_key, in link order."""
        if not refs:
            return {}
        rows = (
            await self.session.execute(
                text("""
            SELECT k.profile_id::text AS p, k.key_type, k.value FROM identity_key k
              JOIN unnest(CAST(:t AS text[]), CAST(:ids AS uuid[])) AS q(tenant_id, profile_id)
                   USING (tenant_id, profile_id)
             ORDER BY k.linked_at, k.key_type, k.value
        """),
                {"t": [t for t, _ in refs], "ids": [i for _, i in refs]},
            )
        ).all()
        return _keys_by_profile([i for _, i in refs], rows)
