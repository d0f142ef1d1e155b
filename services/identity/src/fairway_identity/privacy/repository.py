"""SQL of erasure: every identity table loses the person's data; tombstones keep ids and times only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text

from fairway_chassis import RepositoryBase


class PrivacyRepository(RepositoryBase):
    """Erasure within one tenant."""

    async def erase(self, ids: Sequence[str], at: datetime) -> None:
        p = {"t": self.tenant_id, "ids": list(ids), "at": at}
        await self.session.execute(
            text("""
            UPDATE profile SET status = 'DELETED', lifecycle_stage = 'SUBSCRIBER', tags = '[]', attributes = '{}',
                   consent = '{}', identities = '{}', state = '{}', distinct_from = '[]', erased_at = :at,
                   updated_at = :at, revision = revision + 1
             WHERE tenant_id = :t AND id = ANY(CAST(:ids AS uuid[]))
        """),
            p,
        )
        keys = (
            await self.session.execute(
                text("""
            DELETE FROM identity_key WHERE tenant_id = :t AND profile_id = ANY(CAST(:ids AS uuid[]))
            RETURNING key_type, value
        """),
                p,
            )
        ).all()
        # Sightings of the person's values, on their profiles or on anyone else's.
        await self.session.execute(
            text("""
            DELETE FROM key_sighting s
             WHERE s.tenant_id = :t AND (s.profile_id = ANY(CAST(:ids AS uuid[]))
                   OR (s.key_type, s.value) IN (SELECT * FROM unnest(CAST(:k AS text[]), CAST(:v AS text[]))))
        """),
            {**p, "k": [r.key_type for r in keys], "v": [r.value for r in keys]},
        )
        # Their events, and other people's events that conflicted with their keys (those name their values).
        await self.session.execute(
            text("""
            UPDATE event_log e SET body = NULL, detail = NULL
             WHERE e.tenant_id = :t AND (e.profile_id = ANY(CAST(:ids AS uuid[]))
                   OR (e.detail ? 'conflicts' AND EXISTS (
                        SELECT 1 FROM jsonb_array_elements(e.detail->'conflicts') c
                         WHERE c->>'profileId' = ANY(CAST(:ids AS text[])))))
        """),
            p,
        )
        await self.session.execute(
            text("""
            DELETE FROM merge_candidate WHERE tenant_id = :t
               AND (profile_a = ANY(CAST(:ids AS uuid[])) OR profile_b = ANY(CAST(:ids AS uuid[])))
        """),
            p,
        )
        await self.session.execute(
            text("""
            UPDATE merge SET evidence = NULL, reason = NULL WHERE tenant_id = :t
               AND (winner_id = ANY(CAST(:ids AS uuid[])) OR loser_id = ANY(CAST(:ids AS uuid[])))
        """),
            p,
        )
        # The outbox is identity's audit log of what it told others: events about them (or naming them) go.
        await self.session.execute(
            text("""
            DELETE FROM event_outbox WHERE tenant_id = :t
               AND (key = ANY(CAST(:ids AS text[])) OR body LIKE ANY(CAST(:patterns AS text[])))
        """),
            {**p, "patterns": [f"%{i}%" for i in ids]},
        )
