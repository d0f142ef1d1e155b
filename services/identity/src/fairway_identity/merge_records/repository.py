"""SQL of merges and merge candidates: written by resolution (auto-merges, candidates) and by merging (staff
merges, undo), read by merging and privacy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_identity.jsonutil import dumps
from fairway_identity.merge_records.candidates import Candidate


@dataclass(frozen=True, slots=True)
class MergeRef:
    """A merge not undone: `loser` hangs on `winner` since event-log position `seq`."""

    id: str
    winner: str
    loser: str
    seq: int


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    id: str
    a: str
    b: str
    status: str
    evidence: list[Any]
    conflict_keys: list[str]
    seen_count: int
    source_event_id: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class MergeRepository(RepositoryBase):
    """Merges and merge candidates of one tenant."""

    async def insert_merges(self, merges: Sequence[dict[str, Any]]) -> None:
        await MergeBatchRepository(self.session).insert_merges([self.row(**m) for m in merges])

    async def upsert_candidates(
        self, candidates: Sequence[Candidate], ids: Sequence[str]
    ) -> list[tuple[str, bool, Candidate]]:
        if any(c.tenant_id != self.tenant_id for c in candidates):
            raise ValueError("a candidate of another tenant")
        return await MergeBatchRepository(self.session).upsert_candidates(candidates, ids)


    async def supersede_candidates(
        self, winner: str, loser: str, actor: str | None
    ) -> list[dict]:
        """After a merge: the pair's open candidate is accepted; the loser's other open candidates are closed and
        returned so they can be reopened against the winner."""
        await self.session.execute(
            text("""
            UPDATE merge_candidate SET status = 'ACCEPTED', resolved_at = now(), resolved_by = :actor,
                   resolution = 'merged', updated_at = now()
             WHERE tenant_id = :t AND status = 'OPEN'
               AND profile_a = LEAST(CAST(:w AS uuid), CAST(:l AS uuid))
               AND profile_b = GREATEST(CAST(:w AS uuid), CAST(:l AS uuid))
        """),
            {"t": self.tenant_id, "w": winner, "l": loser, "actor": actor},
        )
        rows = (
            await self.session.execute(
                text("""
            UPDATE merge_candidate SET status = 'SUPERSEDED', resolved_at = now(), resolution = :why,
                   updated_at = now()
             WHERE tenant_id = :t AND status = 'OPEN' AND CAST(:l AS uuid) IN (profile_a, profile_b)
            RETURNING profile_a::text AS a, profile_b::text AS b, evidence, conflict_keys, source_event_id
        """),
                {"t": self.tenant_id, "l": loser, "why": f"profile merged into {winner}"},
            )
        ).all()
        return [dict(r._mapping) for r in rows]


    # -- merge history ----------------------------------------------------------------------------------
    async def active_merges(self, profile_ids: Sequence[str]) -> list[MergeRef]:
        """Merges not undone whose winner is one of these profiles."""
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, winner_id::text AS winner, loser_id::text AS loser, seq
              FROM merge WHERE tenant_id = :t AND undone_at IS NULL AND winner_id = ANY(CAST(:ids AS uuid[]))
        """),
                {"t": self.tenant_id, "ids": list(profile_ids)},
            )
        ).all()
        return [MergeRef(**r._mapping) for r in rows]

    async def active_merge_of(self, loser: str) -> MergeRef | None:
        row = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, winner_id::text AS winner, loser_id::text AS loser, seq FROM merge
             WHERE tenant_id = :t AND undone_at IS NULL AND loser_id = CAST(:l AS uuid)
        """),
                {"t": self.tenant_id, "l": loser},
            )
        ).first()
        return MergeRef(**row._mapping) if row else None

    async def latest_merge_into(self, winner: str) -> MergeRef | None:
        row = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, winner_id::text AS winner, loser_id::text AS loser, seq FROM merge
             WHERE tenant_id = :t AND undone_at IS NULL AND winner_id = CAST(:w AS uuid)
             ORDER BY created_at DESC, seq DESC LIMIT 1
        """),
                {"t": self.tenant_id, "w": winner},
            )
        ).first()
        return MergeRef(**row._mapping) if row else None

    async def mark_undone(self, merge_id: str, actor: str) -> None:
        await self.session.execute(
            text("""
            UPDATE merge SET undone_at = now(), undone_by = :a WHERE tenant_id = :t AND id = CAST(:id AS uuid)
        """),
            {"t": self.tenant_id, "id": merge_id, "a": actor},
        )

    async def history(self, profile_ids: Sequence[str]) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, winner_id::text AS "winnerId", loser_id::text AS "loserId", reason, actor,
                   evidence, created_at AS "mergedAt", undone_at AS "undoneAt", undone_by AS "undoneBy"
              FROM merge WHERE tenant_id = :t
               AND (winner_id = ANY(CAST(:ids AS uuid[])) OR loser_id = ANY(CAST(:ids AS uuid[])))
             ORDER BY created_at
        """),
                {"t": self.tenant_id, "ids": list(profile_ids)},
            )
        ).all()
        return [dict(r._mapping) for r in rows]

    # -- candidates ---------------------------------------------------------------------------------------
    async def list_candidates(self, status: str, after: str | None, limit: int) -> list[CandidateRecord]:
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, profile_a::text AS a, profile_b::text AS b, status, evidence, conflict_keys,
                   seen_count, source_event_id, created_at, updated_at, resolved_at, resolved_by, resolution
              FROM merge_candidate
             WHERE tenant_id = :t AND status = :s AND (CAST(:after AS uuid) IS NULL OR id < CAST(:after AS uuid))
             ORDER BY id DESC LIMIT :n
        """),
                {"t": self.tenant_id, "s": status, "after": after, "n": limit},
            )
        ).all()
        return [CandidateRecord(**r._mapping) for r in rows]

    async def candidates_of(self, profile_ids: Sequence[str]) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                text("""
            SELECT id::text AS id, profile_a::text AS a, profile_b::text AS b, status, evidence, created_at,
                   resolution FROM merge_candidate
             WHERE tenant_id = :t AND (profile_a = ANY(CAST(:ids AS uuid[])) OR profile_b = ANY(CAST(:ids AS uuid[])))
             ORDER BY created_at
        """),
                {"t": self.tenant_id, "ids": list(profile_ids)},
            )
        ).all()
        return [dict(r._mapping) for r in rows]

    async def dismiss(self, candidate_id: str, actor: str) -> tuple[str, str] | None:
        """Dismiss an open candidate; the pair of profiles, or None if there was no such open candidate."""
        row = (
            await self.session.execute(
                text("""
            UPDATE merge_candidate SET status = 'DISMISSED', resolved_at = now(), resolved_by = :a,
                   resolution = 'dismissed by staff', updated_at = now()
             WHERE tenant_id = :t AND id = CAST(:id AS uuid) AND status = 'OPEN'
            RETURNING profile_a::text AS a, profile_b::text AS b
        """),
                {"t": self.tenant_id, "id": candidate_id, "a": actor},
            )
        ).first()
        return (row.a, row.b) if row else None


class MergeBatchRepository:
    """The resolution consumer's merge SQL: a batch holds many tenants' merges and candidates, each row carrying
    its tenant (inserts only; a candidate's pair is unique per tenant)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_merges(self, merges: Sequence[dict[str, Any]]) -> None:
        if merges:
            await self.session.execute(
                text("""
                INSERT INTO merge (id, tenant_id, winner_id, loser_id, seq, reason, evidence, actor)
                VALUES (CAST(:id AS uuid), :tenant_id, CAST(:winner_id AS uuid), CAST(:loser_id AS uuid), :seq,
                        :reason, CAST(:evidence AS jsonb), :actor)
            """),
                [{**m, "evidence": dumps(m.get("evidence"))} for m in merges],
            )

    async def upsert_candidates(
        self, candidates: Sequence[Candidate], ids: Sequence[str]
    ) -> list[tuple[str, bool, Candidate]]:
        """Open a candidate per pair, or add evidence to the open one. Returns (id, newly opened, candidate)."""
        if not candidates:
            return []
        rows = (
            await self.session.execute(
                text("""
            INSERT INTO merge_candidate AS c (id, tenant_id, profile_a, profile_b, status, evidence, conflict_keys,
                                              source_event_id)
            SELECT u.id, u.t, u.a, u.b, 'OPEN', u.ev::jsonb, u.ck::jsonb, u.e
              FROM unnest(CAST(:id AS uuid[]), CAST(:t AS text[]), CAST(:a AS uuid[]), CAST(:b AS uuid[]),
                          CAST(:ev AS text[]), CAST(:ck AS text[]), CAST(:e AS text[])) AS u(id, t, a, b, ev, ck, e)
            ON CONFLICT (tenant_id, profile_a, profile_b) WHERE status = 'OPEN' DO UPDATE SET
                evidence = CASE WHEN jsonb_array_length(c.evidence) < 20 THEN c.evidence || EXCLUDED.evidence
                                ELSE c.evidence END,
                conflict_keys = (SELECT jsonb_agg(DISTINCT x) FROM jsonb_array_elements(
                                     c.conflict_keys || EXCLUDED.conflict_keys) x),
                seen_count = c.seen_count + 1, updated_at = now()
            RETURNING c.id::text AS id, (xmax = 0) AS inserted, c.tenant_id, c.profile_a::text AS a,
                      c.profile_b::text AS b
        """),
                {
                    "id": list(ids),
                    "t": [c.tenant_id for c in candidates],
                    "a": [c.pair[0] for c in candidates],
                    "b": [c.pair[1] for c in candidates],
                    "ev": [dumps(c.evidence[:20]) for c in candidates],
                    "ck": [dumps(c.conflict_keys) for c in candidates],
                    "e": [c.source_event_id for c in candidates],
                },
            )
        ).all()
        by_pair = {(c.tenant_id, *c.pair): c for c in candidates}
        return [(r.id, bool(r.inserted), by_pair[(r.tenant_id, r.a, r.b)]) for r in rows]
