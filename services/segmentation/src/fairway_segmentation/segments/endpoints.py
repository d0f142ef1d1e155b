"""HTTP API of segments. One transaction per request (SessionDep); the tenant is always the caller's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from fairway_chassis import Principal, SessionDep, require_roles
from fairway_chassis.errors import Unprocessable
from fairway_segmentation.clock import Clock
from fairway_segmentation.nl.service import NlIn, NlOut, build
from fairway_segmentation.readmodel.fields import CATALOGUE
from fairway_segmentation.segments import schemas
from fairway_segmentation.segments.service import MemberKeys, SegmentService

READ = ("marketer", "staff", "analyst")
WRITE = ("marketer",)

# Fixed paths first: /fields must not be taken for a segment id.
tools = APIRouter(prefix="/api/v1/segments", tags=["segments"])
router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


def _now(request: Request):  # noqa: ANN202
    clock: Clock = request.app.state.runtime.extras["clock"]
    return clock()


def _service(request: Request, session: SessionDep, principal: Principal) -> SegmentService:
    return SegmentService(session, principal, _now(request))


@tools.get("/fields", response_model=list[schemas.FieldOut])
async def fields(principal: Principal = require_roles(*READ)) -> list[schemas.FieldOut]:
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
    request: Request,
    session: SessionDep,
    principal: Principal = require_roles(*READ),
) -> schemas.PreviewOut:
    return await _service(request, session, principal).preview(body)


@tools.post("/nl", response_model=NlOut)
async def natural_language(
    body: NlIn, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> NlOut:
    runtime = request.app.state.runtime
    return await build(
        session,
        principal,
        body,
        rpc=runtime.rpc,
        now=_now(request),
        timeout=runtime.settings.ai_timeout_seconds,
    )


@router.get("", response_model=schemas.SegmentPage)
async def list_segments(
    request: Request,
    session: SessionDep,
    principal: Principal = require_roles(*READ),
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    type: Literal["DYNAMIC", "STATIC"] | None = None,
) -> schemas.SegmentPage:  # noqa: A002
    return await _service(request, session, principal).page(cursor, limit, type)


@router.post("", status_code=201, response_model=schemas.SegmentOut)
async def create_segment(
    body: schemas.SegmentIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require_roles(*WRITE),
) -> schemas.SegmentOut:
    return await _service(request, session, principal).create(body)


@router.get("/{segment_id}", response_model=schemas.SegmentOut)
async def get_segment(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*READ)
) -> schemas.SegmentOut:
    return await _service(request, session, principal).detail(segment_id)


@router.patch("/{segment_id}", response_model=schemas.SegmentOut)
async def update_segment(
    segment_id: str,
    body: schemas.SegmentPatch,
    request: Request,
    session: SessionDep,
    principal: Principal = require_roles(*WRITE),
) -> schemas.SegmentOut:
    return await _service(request, session, principal).update(segment_id, body)


@router.delete("/{segment_id}", status_code=204)
async def delete_segment(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> Response:
    await _service(request, session, principal).delete(segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/members", response_model=schemas.MemberPage)
async def members(
    segment_id: str,
    request: Request,
    session: SessionDep,
    principal: Principal = require_roles(*READ),
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> schemas.MemberPage:
    return await _service(request, session, principal).member_page(segment_id, cursor, limit)


@router.post("/{segment_id}/refresh", response_model=schemas.RefreshResult)
async def refresh(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> schemas.RefreshResult:
    return await _service(request, session, principal).refresh(segment_id)


@router.post("/{segment_id}/sync", response_model=schemas.SyncResult)
async def full_resync(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> schemas.SyncResult:
    """Send Messaging the whole member list again (the first delta says fullResync)."""
    return await _service(request, session, principal).resync(segment_id)


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
        err = exc.errors()[0]
        raise Unprocessable(err["msg"], field=".".join(str(p) for p in ("body", *err["loc"]))) from None


@router.post("/{segment_id}/members", response_model=schemas.MembersResult, openapi_extra=_MEMBERS_BODY)
async def add_members(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> schemas.MembersResult:
    keys = await _member_keys(request)
    return await _service(request, session, principal).change_members(segment_id, keys, add=True)


@router.delete("/{segment_id}/members", response_model=schemas.MembersResult, openapi_extra=_MEMBERS_BODY)
async def remove_members(
    segment_id: str, request: Request, session: SessionDep, principal: Principal = require_roles(*WRITE)
) -> schemas.MembersResult:
    keys = await _member_keys(request)
    return await _service(request, session, principal).change_members(segment_id, keys, add=False)
