from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from fairway_chassis import Unprocessable, error_responses
from fairway_timeline.activities.catalogue import ActivityType, Category
from fairway_timeline.activities.repository import TimelineQuery
from fairway_timeline.activities.schemas import TimelinePage
from fairway_timeline.activities.service import parse_bound, parse_list, timeline_page
from fairway_timeline.api import ProfileIdPath, Reader, ReadSessionDep

router = APIRouter(prefix="/api/v1/customers", tags=["timeline"])


@router.get("/{profile_id}/timeline", responses=error_responses(404), response_model=TimelinePage)
async def get_timeline(
    profile_id: ProfileIdPath,
    session: ReadSessionDep,
    principal: Reader,
    categories: Annotated[
        list[str] | None, Query(description="BOOKING,GOLF,... (comma-separated or repeated)")
    ] = None,
    types: Annotated[
        list[str] | None, Query(description="BOOKING_CREATED,... (comma-separated or repeated)")
    ] = None,
    startDate: Annotated[str | None, Query(description="date or ISO datetime, inclusive")] = None,  # noqa: N803
    endDate: Annotated[
        str | None, Query(description="date (whole day included) or ISO datetime, exclusive")
    ] = None,  # noqa: N803
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """The profile's activities, newest first (by when they happened), with the total matching the filters."""
    start = parse_bound(startDate, "startDate", end=False)
    end = parse_bound(endDate, "endDate", end=True)
    if start is not None and end is not None and start >= end:
        raise Unprocessable("endDate must be after startDate", field="query.endDate")
    query = TimelineQuery(
        profile_id=profile_id,
        viewer=principal.subject,
        categories=parse_list(categories, Category, "categories"),
        types=parse_list(types, ActivityType, "types"),
        start=start,
        end=end,
    )
    page = await timeline_page(session, principal.tenant_id, query, limit=limit, cursor=cursor)
    # Serialised straight to JSON (the model documents the response; it needs no second validation).
    return Response(page.model_dump_json(), media_type="application/json")

