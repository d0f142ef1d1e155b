"""The content calendar and its secret iCalendar feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from fairway_chassis import NotFound, SessionDep, Unprocessable, error_responses
from fairway_social.api import Connector, Reader, SocialDep
from fairway_social.content_calendar import service
from fairway_social.content_calendar.schemas import CalendarOut, FeedOut

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


def _bound(value: date | datetime, tz: object) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)  # type: ignore[arg-type]
        return value
    return datetime.combine(value, time(), tzinfo=tz)  # type: ignore[arg-type]


@router.get("", response_model=CalendarOut, responses=error_responses(422))
async def calendar(session: SessionDep, social: SocialDep, principal: Reader,
                   start: Annotated[datetime | date | None, Query(alias="from")] = None,
                   end: Annotated[datetime | date | None, Query(alias="to")] = None,
                   channel: str | None = None, status: str | None = None) -> CalendarOut:
    """Posts, campaign sends and competitions from `from` to `to` (dates are days in the tenant's time zone;
    default: this month). Filter by `channel` (SOCIAL, EMAIL, SMS, PUSH, TEETIME) and `status`."""
    tz = service.zone(social, principal.tenant_id)
    today = social.now().astimezone(tz).date()
    lo = _bound(start or today.replace(day=1), tz)
    hi = _bound(end or (lo.date() + timedelta(days=32)).replace(day=1), tz)
    if hi <= lo:
        raise Unprocessable("must be after from", field="to")
    if hi - lo > service.MAX_RANGE:
        raise Unprocessable("at most 400 days at once", field="to")
    return await service.entries(session, social, principal.tenant_id, lo.astimezone(UTC), hi.astimezone(UTC),
                                 channel, status)


@router.post("/feed", response_model=FeedOut)
async def new_feed(session: SessionDep, social: SocialDep, principal: Connector) -> FeedOut:
    """A new secret iCalendar URL for the tenant (read-only; the previous URL stops working)."""
    return FeedOut(url=await service.new_feed(session, social, principal.tenant_id))


@router.get("/feed/{tenant_id}/{secret}.ics", include_in_schema=False)
async def feed(tenant_id: str, secret: str, session: SessionDep, social: SocialDep) -> Response:
    """No bearer token: calendar apps cannot send one. The secret in the URL is the permission."""
    if not await service.feed_allowed(session, tenant_id, secret):
        raise NotFound("no such calendar")
    now = social.now()
    cal = await service.entries(session, social, tenant_id, now - timedelta(days=30), now + timedelta(days=180))
    return Response(service.ics(cal, tenant_id), media_type="text/calendar; charset=utf-8")
