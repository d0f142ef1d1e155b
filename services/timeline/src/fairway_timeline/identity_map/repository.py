"""SQL for profiles, their keys and the hashed keys of erased profiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_timeline.db import erased_keys, profile_keys, profiles
from fairway_timeline.identity_map.keys import Key

MAX_MERGE_DEPTH = 32


@dataclass(frozen=True)
class KeyRow:
    id: int
    key_type: str
    value: str
    profile_id: str


class ProfileRepository(RepositoryBase):
    """Profiles, their keys and the hashed keys of erased profiles, of one tenant."""

    # -- profiles ---------------------------------------------------------------------------------------
    async def status(self, profile_id: str) -> str | None:
        return (
            await self.session.execute(
                select(profiles.c.status).where(
                    self.owns(profiles), profiles.c.profile_id == profile_id
                )
            )
        ).scalar_one_or_none()

    async def canonical(self, profile_id: str) -> tuple[str, str] | None:
        """(profile id, status) of the profile `profile_id`'s activities hang on: itself, or the winner at the
        end of its merge chain (kept in root_id, so this is one index lookup). None if unknown."""
        return (await self.canonical_many([profile_id])).get(profile_id)

    async def canonical_many(self, profile_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """`canonical` of several profiles in one statement; unknown ones are left out."""
        root = profiles.alias("root")
        rows = (
            await self.session.execute(
                select(profiles.c.profile_id.label("asked"), root.c.profile_id, root.c.status)
                .select_from(
                    profiles.join(
                        root,
                        and_(
                            root.c.tenant_id == profiles.c.tenant_id, root.c.profile_id == profiles.c.root_id
                        ),
                    )
                )
                .where(self.owns(profiles), profiles.c.profile_id.in_(list(profile_ids)))
            )
        ).all()
        return {r.asked: (r.profile_id, r.status) for r in rows}

    async def subtree(self, root: str) -> list[str]:
        """`root` and every profile merged into it, directly or through others."""
        rows = (
            (
                await self.session.execute(
                    text("""
            WITH RECURSIVE sub(profile_id, depth) AS (
                SELECT CAST(:root AS varchar), 0
                UNION
                SELECT p.profile_id, s.depth + 1 FROM profiles p JOIN sub s
                    ON p.tenant_id = :t AND p.merged_into = s.profile_id
                 WHERE s.depth < :max_depth
            )
            SELECT DISTINCT profile_id FROM sub
        """),
                    {"t": self.tenant_id, "root": root, "max_depth": MAX_MERGE_DEPTH},
                )
            )
            .scalars()
            .all()
        )
        return list(rows)

    async def ensure(self, profile_id: str, status: str = "ACTIVE") -> None:
        """Record a profile we hear of, without overwriting what we already know about it."""
        await self.ensure_many([(profile_id, status)])

    async def ensure_many(self, items: Sequence[tuple[str, str]]) -> None:
        """`ensure` for (profile id, status) pairs, in one statement."""
        if not items:
            return
        await self.session.execute(
            text("""
            INSERT INTO profiles (tenant_id, profile_id, status, root_id)
            SELECT :t, p, s, p FROM unnest(CAST(:p AS text[]), CAST(:s AS text[])) AS u(p, s)
            ON CONFLICT DO NOTHING
        """),
            {"t": self.tenant_id, "p": [i[0] for i in items], "s": [i[1] for i in items]},
        )

    async def restore(self, profile_id: str, status: str) -> None:
        """Unmerge: the profile stands on its own again, with every profile that had been merged into it."""
        await self.session.execute(
            insert(profiles)
            .values(tenant_id=self.tenant_id, profile_id=profile_id, status=status, root_id=profile_id)
            .on_conflict_do_update(
                index_elements=["tenant_id", "profile_id"],
                set_={"status": status, "merged_into": None, "root_id": profile_id, "updated_at": func.now()},
            )
        )
        subtree = await self.subtree(profile_id)
        await self.session.execute(
            update(profiles)
            .where(self.owns(profiles), profiles.c.profile_id.in_(subtree))
            .values(root_id=profile_id)
        )

    async def set_merged(self, loser_id: str, winner_id: str) -> None:
        """`loser_id` (a root) and everything merged into it now hang on `winner_id` (a root)."""
        await self.session.execute(
            insert(profiles)
            .values(
                tenant_id=self.tenant_id,
                profile_id=loser_id,
                status="MERGED",
                merged_into=winner_id,
                root_id=winner_id,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id", "profile_id"],
                set_={
                    "status": "MERGED",
                    "merged_into": winner_id,
                    "root_id": winner_id,
                    "updated_at": func.now(),
                },
            )
        )
        await self.session.execute(
            update(profiles)
            .where(
                self.owns(profiles),
                profiles.c.root_id == loser_id,
                profiles.c.root_id != profiles.c.profile_id,  # matches the partial index
            )
            .values(root_id=winner_id)
        )

    async def mark_erased(self, profile_ids: Sequence[str]) -> None:
        await self.session.execute(
            update(profiles)
            .where(self.owns(profiles), profiles.c.profile_id.in_(profile_ids))
            .values(status="ERASED", merged_into=None, root_id=profiles.c.profile_id, updated_at=func.now())
        )

    # -- keys -------------------------------------------------------------------------------------------
    async def upsert_keys(self, keys: Iterable[Key], profile_id: str) -> None:
        await self.upsert_keys_many([(k, profile_id) for k in keys])

    async def upsert_keys_many(self, pairs: Sequence[tuple[Key, str]]) -> None:
        """Point each key at its profile, in one statement (a key appears once among `pairs`)."""
        if not pairs:
            return
        await self.session.execute(
            text("""
            INSERT INTO profile_keys (tenant_id, key_type, key_value, profile_id)
            SELECT :t, kt, kv, p FROM unnest(CAST(:kt AS text[]), CAST(:kv AS text[]), CAST(:p AS text[]))
                AS u(kt, kv, p)
            ON CONFLICT (tenant_id, key_type, key_value)
            DO UPDATE SET profile_id = EXCLUDED.profile_id, updated_at = now()
        """),
            {"t": self.tenant_id, "kt": [k.key_type for k, _ in pairs], "kv": [k.value for k, _ in pairs],
             "p": [p for _, p in pairs]},
        )

    async def keep_only_keys(self, profile_id: str, keys: Sequence[Key]) -> None:
        """Forget the keys of `profile_id` that are not in `keys` (identity unlinked them)."""
        pk = profile_keys.c
        stmt = delete(profile_keys).where(self.owns(profile_keys), pk.profile_id == profile_id)
        if keys:
            stmt = stmt.where(tuple_(pk.key_type, pk.key_value).not_in([(k.key_type, k.value) for k in keys]))
        await self.session.execute(stmt)

    async def repoint_keys(self, from_profile: str, to_profile: str) -> None:
        await self.session.execute(
            update(profile_keys)
            .where(self.owns(profile_keys), profile_keys.c.profile_id == from_profile)
            .values(profile_id=to_profile, updated_at=func.now())
        )

    async def keys_of(self, profile_ids: Sequence[str]) -> list[KeyRow]:
        rows = (
            await self.session.execute(
                select(
                    profile_keys.c.id,
                    profile_keys.c.key_type,
                    profile_keys.c.key_value,
                    profile_keys.c.profile_id,
                ).where(self.owns(profile_keys), profile_keys.c.profile_id.in_(profile_ids))
            )
        ).all()
        return [KeyRow(r.id, r.key_type, r.key_value, r.profile_id) for r in rows]

    async def delete_keys(self, ids: Sequence[int]) -> None:
        if ids:
            await self.session.execute(delete(profile_keys).where(self.owns(profile_keys), profile_keys.c.id.in_(ids)))

    # -- erased keys ------------------------------------------------------------------------------------
    async def remember_erased(
        self, hashes: Sequence[str], erased_at: datetime, now: datetime
    ) -> None:
        if not hashes:
            return
        stmt = insert(erased_keys).values(
            [
                {"tenant_id": self.tenant_id, "key_hash": h, "erased_at": erased_at, "recorded_at": now}
                for h in set(hashes)
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "key_hash"],
                set_={
                    "erased_at": func.greatest(erased_keys.c.erased_at, stmt.excluded.erased_at),
                    "recorded_at": stmt.excluded.recorded_at,
                },
            )
        )


class ProfileBatchRepository:
    """The ingest's key lookups, across tenants by design (a batch holds many tenants' events): every statement
    matches each row on the tenant it comes with."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lookup(self, wanted: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], KeyRow]:
        """(tenant, key type, value) -> the key row, for every wanted key identity has announced."""
        if not wanted:
            return {}
        tenants, types, values = (list(col) for col in zip(*set(wanted), strict=True))
        rows = (
            await self.session.execute(
                text("""
            SELECT k.id, k.tenant_id, k.key_type, k.key_value, k.profile_id
              FROM unnest(CAST(:t AS text[]), CAST(:kt AS text[]), CAST(:kv AS text[])) AS w(tenant_id, key_type, key_value)
              JOIN profile_keys k USING (tenant_id, key_type, key_value)
        """),
                {"t": tenants, "kt": types, "kv": values},
            )
        ).all()
        return {
            (r.tenant_id, r.key_type, r.key_value): KeyRow(r.id, r.key_type, r.key_value, r.profile_id)
            for r in rows
        }

    async def erased_at(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """(tenant, key hash) -> when the profile holding that key was erased."""
        if not wanted:
            return {}
        tenants, hashes = (list(col) for col in zip(*set(wanted), strict=True))
        rows = (
            await self.session.execute(
                text("""
            SELECT e.tenant_id, e.key_hash, e.erased_at
              FROM unnest(CAST(:t AS text[]), CAST(:h AS text[])) AS w(tenant_id, key_hash)
              JOIN erased_keys e USING (tenant_id, key_hash)
        """),
                {"t": tenants, "h": hashes},
            )
        ).all()
        return {(r.tenant_id, r.key_hash): r.erased_at for r in rows}

    async def purge_erased(self, before: datetime) -> int:
        """Forget erased keys recorded before `before`, whichever tenant's (retention)."""
        result = await self.session.execute(delete(erased_keys).where(erased_keys.c.recorded_at < before))
        return result.rowcount or 0
