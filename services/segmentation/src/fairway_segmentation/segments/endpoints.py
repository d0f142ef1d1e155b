"""HTTP API of segments. One transaction per request (SessionDep); the tenant is always the caller's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from fairway_chassis import (
    Principal,
    SessionDep,
    Unprocessable,
    error_responses,
    field_errors,
    require_roles,
    runtime_state,
)
from fairway_segmentation.readmodel.fields import CATALOGUE
from fairway_segmentation.segments import schemas
from fairway_segmentation.segments.member_keys import MemberKeys
from fairway_segmentation.segments.service import SegmentService
from fairway_segmentation.state import SegmentationState

Reader = Annotated[Principal, require_roles("marketer", "staff", "analyst")]
Writer = Annotated[Principal, require_roles("marketer")]
StateDep = Annotated[SegmentationState, Depends(runtime_state(SegmentationState))]

# Fixed paths first: /fields must not be taken for a segment id.
tools = APIRouter(prefix="/api/v1/segments", tags=["segments"])
router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


def _service(state: SegmentationState, session: SessionDep, principal: Principal) -> SegmentService:
    return SegmentService(session, principal, state.clock.now())


@tools.get("/fields", response_model=list[schemas.FieldOut])
async def fields(principal: Reader) -> list[schemas.FieldOut]:
    return [
        schemas.FieldOut(
            name=f.name,
            type=f.type.value,
            description=f.description,
            operators=sorted(o.value for o in f.operators),
            values=f.values,
            granularity=f.granularity if f.type.value == "date" else None,
            source=f.source,
        )
        for f in CATALOGUE.values()
    ]


@tools.post("/preview", response_model=schemas.PreviewOut)
async def preview(
    body: schemas.PreviewIn,
    state: StateDep,
    session: SessionDep,
    principal: Reader,
) -> schemas.PreviewOut:
    return await _service(state, session, principal).preview(body)


@router.get("", response_model=schemas.SegmentPage)
async def list_segments(
    state: StateDep,
    session: SessionDep,
    principal: Reader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    type: Literal["DYNAMIC", "STATIC"] | None = None,
) -> schemas.SegmentPage:  # noqa: A002
    return await _service(state, session, principal).page(cursor, limit, type)


@router.post("", status_code=201, responses=error_responses(409), response_model=schemas.SegmentOut)
async def create_segment(
    body: schemas.SegmentIn,
    state: StateDep,
    session: SessionDep,
    principal: Writer,
) -> schemas.SegmentOut:
    return await _service(state, session, principal).create(body)


@router.get("/{segment_id}", responses=error_responses(404), response_model=schemas.SegmentOut)
async def get_segment(
    segment_id: str, state: StateDep, session: SessionDep, principal: Reader
) -> schemas.SegmentOut:
    return await _service(state, session, principal).detail(segment_id)


@router.patch("/{segment_id}", responses=error_responses(404, 409), response_model=schemas.SegmentOut)
async def update_segment(
    segment_id: str,
    body: schemas.SegmentPatch,
    state: StateDep,
    session: SessionDep,
    principal: Writer,
) -> schemas.SegmentOut:
    return await _service(state, session, principal).update(segment_id, body)


@router.delete("/{segment_id}", responses=error_responses(404), status_code=204)
async def delete_segment(
    segment_id: str, state: StateDep, session: SessionDep, principal: Writer
) -> Response:
    await _service(state, session, principal).delete(segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/members", responses=error_responses(404), response_model=schemas.MemberPage)
async def members(
    segment_id: str,
    state: StateDep,
    session: SessionDep,
    principal: Reader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> schemas.MemberPage:
    return await _service(state, session, principal).member_page(segment_id, cursor, limit)


@router.post("/{segment_id}/refresh", responses=error_responses(404, 409), response_model=schemas.RefreshResult)
async def refresh(
    segment_id: str, state: StateDep, session: SessionDep, principal: Writer
) -> schemas.RefreshResult:
    return await _service(state, session, principal).refresh(segment_id)


@router.post("/{segment_id}/sync", responses=error_responses(404, 409), response_model=schemas.SyncResult)
async def full_resync(
    segment_id: str, state: StateDep, session: SessionDep, principal: Writer
) -> schemas.SyncResult:
    """Send Messaging the whole member list again (the first delta says fullResync)."""
    return await _service(state, session, principal).resync(segment_id)


_MEMBERS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schemas.MembersIn.model_json_schema()},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "emails and/or member numbers, header row optional",
                }
            },
        },
    }
}


async def _member_keys(request: Request) -> MemberKeys:
    data = await request.body()
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv":
        return MemberKeys.from_csv_bytes(data)
    try:
        return MemberKeys.of(schemas.MembersIn.model_validate_json(data or b"{}"))
    except ValidationError as exc:
        raise Unprocessable.fields(field_errors(exc, ("body",))[:1]) from None


@router.post("/{segment_id}/members", responses=error_responses(404, 409), response_model=schemas.MembersResult, openapi_extra=_MEMBERS_BODY)
async def add_members(
    segment_id: str, request: Request, state: StateDep, session: SessionDep, principal: Writer
) -> schemas.MembersResult:
    keys = await _member_keys(request)
    return await _service(state, session, principal).change_members(segment_id, keys, add=True)


@router.delete("/{segment_id}/members", responses=error_responses(404, 409, 413), response_model=schemas.MembersResult, openapi_extra=_MEMBERS_BODY)
async def remove_members(
    segment_id: str, request: Request, state: StateDep, session: SessionDep, principal: Writer
) -> schemas.MembersResult:
    keys = await _member_keys(request)
    return await _service(state, session, principal).change_members(segment_id, keys, add=False)
