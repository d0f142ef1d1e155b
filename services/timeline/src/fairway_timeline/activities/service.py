"""Timeline reads: filters checked against the catalogue, opaque keyset cursors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import CursorCodec, NotFound, Unprocessable, paginate
from fairway_timeline.activities.catalogue import ActivityType, Category
from fairway_timeline.activities.repository import ActivityRepository, TimelineQuery
from fairway_timeline.activities.schemas import ActivityOut, TimelinePage
from fairway_timeline.api import utc

# The keyset of the timeline: (occurredAt, activity id) of the last activity on the page.
TIMELINE_CURSOR: CursorCodec[tuple[datetime, uuid.UUID]] = CursorCodec(
    tuple[AwareDatetime, uuid.UUID], field="query.cursor"
)


def parse_list(
    values: Sequence[str] | None, allowed: type[ActivityType] | type[Category], field: str
) -> list[str]:
    """`?types=A,B` and `?types=A&types=B` both work; unknown values are a 422 naming them."""
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            item = part.strip().upper()
            if not item:
                continue
            if item not in allowed.__members__:
                raise Unprocessable(
                    f"unknown value {part.strip()!r}; one of {', '.join(allowed.__members__)}",
                    field=f"query.{field}",
                )
            out.append(item)
    return out


def parse_bound(value: str | None, field: str, *, end: bool) -> datetime | None:
    """A date (a whole day: endDate includes it) or an ISO datetime (UTC unless it says otherwise)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day)
            return utc(start + timedelta(days=1) if end else start)
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise Unprocessable(
            "expected a date (2025-03-01) or an ISO datetime", field=f"query.{field}"
        ) from None


async def timeline_page(
    session: AsyncSession, tenant_id: str, query: TimelineQuery, *, limit: int, cursor: str | None
) -> TimelinePage:
    after = TIMELINE_CURSOR.decode(cursor)
    result = await ActivityRepository.for_tenant(session, tenant_id).timeline(query, limit + 1, after)
    if result.profile_id is None or result.status == "ERASED":
        raise NotFound(f"no customer {query.profile_id!r}")
    page = paginate(result.items, limit, TIMELINE_CURSOR, key=lambda r: (r.occurred_at, r.id))
    # model_construct: the rows come from our own table, already typed; validating 50 of them again on every
    # page would be most of the request's CPU.
    return TimelinePage.model_construct(
        profileId=result.profile_id,
        items=[
            ActivityOut.model_construct(
                id=str(r.id),
                profileId=r.profile_id,
                type=r.type,
                category=r.category,
                title=r.title,
                sourceService=r.source_service,
                sourceEventId=r.source_event_id,
                occurredAt=r.occurred_at,
                recordedAt=r.recorded_at,
                payload=r.payload,
            )
            for r in page.items
        ],
        total=result.total,
        nextCursor=page.next_cursor,
    )
