from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from fairway_chassis import SessionDep, error_responses
from fairway_timeline.api import ClockDep, ProfileIdPath, Reader, Writer, live_profile
from fairway_timeline.locks import lock_tenants
from fairway_timeline.notes import service
from fairway_timeline.notes.repository import Note, NoteRepository
from fairway_timeline.notes.schemas import NoteIn, NoteList, NoteOut, NotePatch

router = APIRouter(prefix="/api/v1/customers", tags=["notes"])


def _out(note: Note) -> NoteOut:
    return NoteOut(
        id=str(note.id),
        profileId=note.profile_id,
        type=note.type,
        content=note.content,
        pinned=note.pinned,
        private=note.private,
        author=note.author,
        createdAt=note.created_at,
        updatedAt=note.updated_at,
    )


@router.get("/{profile_id}/notes", responses=error_responses(404), response_model=NoteList)
async def list_notes(
    profile_id: ProfileIdPath, session: SessionDep, principal: Reader
) -> NoteList:
    """Pinned notes first, then newest first; other people's private notes are not shown."""
    live = await live_profile(session, principal.tenant_id, profile_id)
    notes = await NoteRepository.for_tenant(session, principal.tenant_id).visible(live, principal.subject)
    return NoteList(profileId=live, items=[_out(n) for n in notes])


@router.post("/{profile_id}/notes", responses=error_responses(404), response_model=NoteOut, status_code=201)
async def add_note(
    profile_id: ProfileIdPath,
    body: NoteIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
) -> NoteOut:
    # Lock before looking the profile up, so an erasure cannot slip in between.
    await lock_tenants(session, [principal.tenant_id])
    live = await live_profile(session, principal.tenant_id, profile_id)
    return _out(await service.add(session, principal.tenant_id, live, principal.subject, body, clock.now()))


@router.patch("/{profile_id}/notes/{note_id}", responses=error_responses(404), response_model=NoteOut)
async def change_note(
    profile_id: ProfileIdPath,
    note_id: uuid.UUID,
    body: NotePatch,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
) -> NoteOut:
    await lock_tenants(session, [principal.tenant_id])
    live = await live_profile(session, principal.tenant_id, profile_id)
    return _out(
        await service.change(session, principal.tenant_id, live, note_id, principal, body, clock.now())
    )


@router.delete("/{profile_id}/notes/{note_id}", responses=error_responses(404), status_code=204)
async def delete_note(
    profile_id: ProfileIdPath, note_id: uuid.UUID, session: SessionDep, principal: Writer
) -> Response:
    await lock_tenants(session, [principal.tenant_id])
    live = await live_profile(session, principal.tenant_id, profile_id)
    await service.remove(session, principal.tenant_id, live, note_id, principal)
    return Response(status_code=204)
