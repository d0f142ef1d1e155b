"""SQL of the send-time profiles ml-scoring announced last (ml_send_times)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from fairway_chassis import RepositoryBase
from fairway_ml_scoring.db import ml_send_times


@dataclass(frozen=True, slots=True)
class Announced:
    best_hour: int
    source: str
    confidence: float


class SendTimeRepository(RepositoryBase):
    """What one tenant's members were last told about their send times."""

    async def announced(self, subjects: Sequence[str]) -> dict[str, Announced]:
        if not subjects:
            return {}
        rows = await self.session.execute(
            select(
                ml_send_times.c.subject_id,
                ml_send_times.c.best_hour,
                ml_send_times.c.source,
                ml_send_times.c.confidence,
            ).where(self.owns(ml_send_times), ml_send_times.c.subject_id.in_(list(subjects)))
        )
        return {r.subject_id: Announced(r.best_hour, r.source, r.confidence) for r in rows}

    async def record(self, rows: dict[str, Announced], at: datetime) -> None:
        if not rows:
            return
        stmt = insert(ml_send_times).values(
            [
                self.row(subject_id=s, best_hour=a.best_hour, source=a.source, confidence=a.confidence,
                         announced_at=at)
                for s, a in rows.items()
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "subject_id"],
                set_={c: stmt.excluded[c] for c in ("best_hour", "source", "confidence", "announced_at")},
            )
        )
