"""Timeline reads: filters checked against the catalogue, opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound, Unprocessable
from fairway_timeline.activities.catalogue import ActivityType, Category
from fairway_timeline.activities.repository import ActivityRepository, TimelineQuery
from fairway_timeline.activities.schemas import ActivityOut, TimelinePage
from fairway_timeline.api import utc


def encode_cursor(occurred_at: datetime, activity_id: uuid.UUID) -> str:
    raw = json.dumps([occurred_at.isoformat(), str(activity_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, activity_id = json.loads(raw)
        return utc(datetime.fromisoformat(at)), uuid.UUID(activity_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise Unprocessable("not a cursor this API returned", field="query.cursor") from None


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
    session: AsyncSession, query: TimelineQuery, *, limit: int, cursor: str | None
) -> TimelinePage:
    after = decode_cursor(cursor) if cursor else None
    result = await ActivityRepository(session).timeline(query, limit + 1, after)
    if result.profile_id is None or result.status == "ERASED":
        raise NotFound(f"no customer {query.profile_id!r}")
    rows, more = result.items[:limit], len(result.items) > limit
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
            for r in rows
        ],
        total=result.total,
        nextCursor=encode_cursor(rows[-1].occurred_at, rows[-1].id) if more else None,
    )
