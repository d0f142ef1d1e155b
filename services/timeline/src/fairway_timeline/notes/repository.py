"""All SQL on notes, for one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from fairway_chassis import RepositoryBase
from fairway_timeline.db import notes


@dataclass(frozen=True)
class Note:
    id: uuid.UUID
    profile_id: str
    type: str
    content: str
    pinned: bool
    private: bool
    author: str
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    notes.c.id,
    notes.c.profile_id,
    notes.c.type,
    notes.c.content,
    notes.c.pinned,
    notes.c.private,
    notes.c.author,
    notes.c.created_at,
    notes.c.updated_at,
)


def _visible(viewer: str):  # noqa: ANN202
    return or_(notes.c.private.is_(False), notes.c.author == viewer)


class NoteRepository(RepositoryBase):
    """Notes of one tenant."""

    async def add(self, note: Note) -> None:
        await self.session.execute(
            notes.insert().values(
                id=note.id,
                tenant_id=self.tenant_id,
                profile_id=note.profile_id,
                origin_profile_id=note.profile_id,
                type=note.type,
                content=note.content,
                pinned=note.pinned,
                private=note.private,
                author=note.author,
                created_at=note.created_at,
                updated_at=note.updated_at,
            )
        )

    async def visible(self, profile_id: str, viewer: str) -> list[Note]:
        """Pinned first, then newest first."""
        rows = (
            await self.session.execute(
                select(*_COLUMNS)
                .where(self.owns(notes), notes.c.profile_id == profile_id, _visible(viewer))
                .order_by(notes.c.pinned.desc(), notes.c.created_at.desc(), notes.c.id.desc())
            )
        ).all()
        return [Note(**r._mapping) for r in rows]

    async def get_visible(
        self, profile_id: str, note_id: uuid.UUID, viewer: str
    ) -> Note | None:
        row = (
            await self.session.execute(
                select(*_COLUMNS).where(
                    self.owns(notes),
                    notes.c.profile_id == profile_id,
                    notes.c.id == note_id,
                    _visible(viewer),
                )
            )
        ).first()
        return Note(**row._mapping) if row else None

    async def update(self, note_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(notes).where(self.owns(notes), notes.c.id == note_id).values(**values)
        )

    async def delete(self, note_id: uuid.UUID) -> None:
        await self.session.execute(delete(notes).where(self.owns(notes), notes.c.id == note_id))

    # -- identity lifecycle -------------------------------------------------------------------------------
    async def move_all(self, from_profile: str, to_profile: str) -> None:
        await self.session.execute(
            update(notes)
            .where(self.owns(notes), notes.c.profile_id == from_profile)
            .values(profile_id=to_profile)
        )

    async def move_back(
        self, from_profile: str, to_profile: str, origins: Sequence[str]
    ) -> None:
        await self.session.execute(
            update(notes)
            .where(
                self.owns(notes),
                notes.c.profile_id == from_profile,
                notes.c.origin_profile_id.in_(list(origins)),
            )
            .values(profile_id=to_profile)
        )

    async def delete_for_profiles(self, profile_ids: Sequence[str]) -> int:
        result = await self.session.execute(
            delete(notes).where(
                self.owns(notes),
                or_(notes.c.profile_id.in_(profile_ids), notes.c.origin_profile_id.in_(profile_ids)),
            )
        )
        return result.rowcount or 0
