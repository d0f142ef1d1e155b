"""SQL of profiles: locking, saving, reading, listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_identity.jsonutil import dumps
from fairway_identity.profiles.models import LiveProfile, live_profile

# Insert new and update changed profiles from one JSON document (:profiles). Also part of the consumer's
# single write statement (resolution.repository).
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


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> ProfileRepository:
        return cls(session)

    async def lock_profiles(self, ids: Iterable[str]) -> dict[str, LiveProfile]:
        """Load and lock (in id order, so concurrent batches do not deadlock) the profiles a batch touches."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, tenant_id, status, merged_into::text AS merged_into, state::text AS state,
                   identities::text AS identities, distinct_from::text AS distinct_from
              FROM profile WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE
        """),
                {"ids": ids},
            )
        ).all()
        return {r.id: live_profile(r) for r in rows}

    async def move_keys(self, moves: Sequence[tuple[str, str]]) -> None:
        """(loser, winner): the loser's keys now belong to the winner."""
        if moves:
            await self.session.execute(
                text("""
                UPDATE identity_key k SET profile_id = m.winner
                  FROM unnest(CAST(:l AS uuid[]), CAST(:w AS uuid[])) AS m(loser, winner)
                 WHERE k.profile_id = m.loser
            """),
                {"l": [m[0] for m in moves], "w": [m[1] for m in moves]},
            )

    async def save_profiles(self, profiles: Sequence[LiveProfile]) -> None:
        """Insert new and update changed profiles in one statement."""
        if profiles:
            await self.session.execute(text(PROFILE_UPSERT), {"profiles": profile_rows(profiles)})

    # -- reads ------------------------------------------------------------------------------------------
    async def root_of(self, tenant_id: str, profile_id: str) -> tuple[str, str] | None:
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
                {"t": tenant_id, "id": profile_id},
            )
        ).first()
        return (row.id, row.status) if row else None

    async def read(self, tenant_id: str, profile_id: str) -> dict[str, Any] | None:
        row = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, tenant_id, status, merged_into::text AS merged_into, lifecycle_stage, tags,
                   attributes, consent, identities, state, revision, created_at, updated_at, erased_at
              FROM profile WHERE tenant_id = :t AND id = CAST(:id AS uuid)
        """),
                {"t": tenant_id, "id": profile_id},
            )
        ).first()
        return dict(row._mapping) if row else None

    async def search(
        self,
        tenant_id: str,
        *,
        statuses: list[str],
        profile_ids: list[str] | None,
        tier: str | None,
        tag: str | None,
        q: str | None,
        after: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Newest first; `after` is the last id of the previous page."""
        like = None
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, tenant_id, status, merged_into::text AS merged_into, lifecycle_stage, tags,
                   attributes, consent, identities, state, revision, created_at, updated_at, erased_at
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
        """),
                {
                    "t": tenant_id,
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
        return [dict(r._mapping) for r in rows]

    async def owners(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Owner profile of each (keyType, value) in this tenant."""
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
                {"t": tenant_id, "k": [k for k, _ in keys], "v": [v for _, v in keys]},
            )
        ).all()
        return {(r.key_type, r.value): r.profile_id for r in rows}

    async def blocked(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        rows = (
            await self.session.execute(
                text("""
            SELECT b.key_type, b.value FROM blocked_value b
              JOIN unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS q(key_type, value) USING (key_type, value)
             WHERE b.tenant_id = :t
        """),
                {"t": tenant_id, "k": [k for k, _ in keys], "v": [v for _, v in keys]},
            )
        ).all()
        return {(r.key_type, r.value) for r in rows}

    async def tree(self, tenant_id: str, root: str) -> list[str]:
        """The root and every profile merged into it, directly or not."""
        rows = (
            await self.session.execute(
                text("""
            WITH RECURSIVE t(id, depth) AS (
                SELECT CAST(:root AS uuid), 0
                UNION ALL
                SELECT p.id, t.depth + 1 FROM profile p JOIN t ON p.merged_into = t.id
                 WHERE p.tenant_id = :t AND t.depth < 100
            )
            SELECT id::text AS id FROM t
        """),
                {"t": tenant_id, "root": root},
            )
        ).all()
        return [r.id for r in rows]

    async def key_rows(self, tenant_id: str, profile_id: str) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                text("""
            SELECT key_type, value, source_event_id, linked_at FROM identity_key
             WHERE tenant_id = :t AND profile_id = CAST(:p AS uuid) ORDER BY linked_at, key_type
        """),
                {"t": tenant_id, "p": profile_id},
            )
        ).all()
        return [dict(r._mapping) for r in rows]

    async def keys_of(self, profile_ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        """Every key each profile owns, from identity_key, in link order."""
        out: dict[str, dict[str, list[str]]] = {p: {} for p in profile_ids}
        if not profile_ids:
            return out
        rows = (
            await self.session.execute(
                text("""
            SELECT profile_id::text AS p, key_type, value FROM identity_key
             WHERE profile_id = ANY(CAST(:ids AS uuid[])) ORDER BY linked_at, key_type, value
        """),
                {"ids": list(profile_ids)},
            )
        ).all()
        for r in rows:
            out[r.p].setdefault(r.key_type, []).append(r.value)
        return out

    async def set_keys(self, tenant_id: str, profile_id: str, keys: dict[str, list[str]]) -> None:
        """Give these keys to `profile_id` (unmerge hands keys back to the restored profile)."""
        pairs = [(t, v) for t, vs in keys.items() for v in vs]
        if pairs:
            await self.session.execute(
                text("""
                UPDATE identity_key k SET profile_id = CAST(:p AS uuid)
                  FROM unnest(CAST(:k AS text[]), CAST(:v AS text[])) AS q(key_type, value)
                 WHERE k.tenant_id = :t AND k.key_type = q.key_type AND k.value = q.value
            """),
                {"t": tenant_id, "p": profile_id, "k": [t for t, _ in pairs], "v": [v for _, v in pairs]},
            )
