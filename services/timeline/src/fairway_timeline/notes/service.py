"""Notes: adding one also puts a NOTE_ADDED activity on the timeline (visible to whoever sees the note)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_chassis import Forbidden, NotFound, Principal
from fairway_timeline.activities.catalogue import KINDS, ActivityType, note_title
from fairway_timeline.activities.records import NewActivity
from fairway_timeline.activities.repository import ActivityRepository
from fairway_timeline.notes.repository import Note, NoteRepository
from fairway_timeline.notes.schemas import NoteIn, NotePatch

NOTE_SOURCE = "timeline"  # the source service of NOTE_ADDED activities; the note id is the source event id


async def add(
    session: AsyncSession, tenant_id: str, profile_id: str, author: str, data: NoteIn, now: datetime
) -> Note:
    note = Note(
        id=uuid7(),
        profile_id=profile_id,
        type=data.type,
        content=data.content,
        pinned=data.pinned,
        private=data.private,
        author=author,
        created_at=now,
        updated_at=now,
    )
    await NoteRepository.for_tenant(session, tenant_id).add(note)
    kind = KINDS[ActivityType.NOTE_ADDED]
    # NOTE_ADDED does not count as engagement, so the profile's counters cannot change: no refresh needed.
    await ActivityRepository.for_tenant(session, tenant_id).add(
        NewActivity(
            id=uuid7(),
            tenant_id=tenant_id,
            type=kind.type,
            category=kind.category,
            title=note_title(data.type),
            source_service=NOTE_SOURCE,
            source_event_id=str(note.id),
            occurred_at=now,
            payload={"noteId": str(note.id), "noteType": str(data.type)},
            counts=kind.counts,
            profile_id=profile_id,
            visible_to=author if data.private else None,
        ),
        now,
    )
    return note


async def _editable(
    session: AsyncSession, tenant_id: str, profile_id: str, note_id: uuid.UUID, principal: Principal
) -> Note:
    note = await NoteRepository.for_tenant(session, tenant_id).get_visible(profile_id, note_id, principal.subject)
    if note is None:  # someone else's private note does not exist for the caller
        raise NotFound(f"no note {note_id} on customer {profile_id!r}")
    if note.author != principal.subject and "admin" not in principal.roles:
        raise Forbidden("only the note's author (or an admin) may change or delete it")
    return note


async def change(
    session: AsyncSession,
    tenant_id: str,
    profile_id: str,
    note_id: uuid.UUID,
    principal: Principal,
    patch: NotePatch,
    now: datetime,
) -> Note:
    note = await _editable(session, tenant_id, profile_id, note_id, principal)
    values = {name: getattr(patch, name) for name in patch.model_fields_set}
    await NoteRepository.for_tenant(session, tenant_id).update(note_id, {**values, "updated_at": now})
    updated = Note(**{**note.__dict__, **values, "updated_at": now})
    if "private" in values or "type" in values:
        await ActivityRepository.for_tenant(session, tenant_id).set_note_visibility(
            note_id, updated.author if updated.private else None, note_title(updated.type)
        )
    return updated


async def remove(
    session: AsyncSession, tenant_id: str, profile_id: str, note_id: uuid.UUID, principal: Principal
) -> None:
    await _editable(session, tenant_id, profile_id, note_id, principal)
    await NoteRepository.for_tenant(session, tenant_id).delete(note_id)
    # The timeline entry would point at nothing; it goes with the note.
    await ActivityRepository.for_tenant(session, tenant_id).delete_note_activity(note_id)
