"""The content calendar: scheduled and published posts, campaigns' sends and TeeTime competitions, in the
tenant's time zone; and its read-only iCalendar feed behind a secret URL."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_social.content_calendar.repository import CalendarRepository
from fairway_social.content_calendar.schemas import CalendarEntry, CalendarOut
from fairway_social.posts.repository import PostRepository
from fairway_social.state import SocialState
from fairway_social.targets import TargetRepository

MAX_RANGE = timedelta(days=400)


def zone(st: SocialState, tenant_id: str) -> ZoneInfo:
    return ZoneInfo(st.settings.tenant_time_zones.get(tenant_id, st.settings.time_zone))


async def entries(session: AsyncSession, st: SocialState, tenant_id: str, start: datetime, end: datetime,
                  channel: str | None = None, status: str | None = None) -> CalendarOut:
    tz = zone(st, tenant_id)
    out: list[CalendarEntry] = []
    posts = await PostRepository(session, tenant_id).between(start, end)
    targets = await TargetRepository(session, tenant_id).for_posts([p.id for p in posts])
    for p in posts:
        assert p.scheduled_at is not None
        out.append(CalendarEntry(
            kind="SOCIAL_POST", id=str(p.id), title=_title(p.text), start=p.scheduled_at.astimezone(tz),
            channels=["SOCIAL"], status=p.status, details={
                "platforms": sorted({t.platform for t in targets[p.id]}),
                "urls": [t.url for t in targets[p.id] if t.url], "campaignId": p.campaign_id,
                "waiting": [t.wait_reason for t in targets[p.id] if t.status == "WAITING"]}))
    for item in await CalendarRepository(session, tenant_id).between(start, end):
        out.append(CalendarEntry(kind=item.kind, id=item.source_id, title=item.title,
                                 start=item.starts_at.astimezone(tz), channels=item.channel.split(","),
                                 status=item.status, details=item.details))
    if channel:
        out = [e for e in out if channel.upper() in e.channels]
    if status:
        out = [e for e in out if e.status == status.upper()]
    out.sort(key=lambda e: (e.start, e.kind, e.id))
    return CalendarOut(timeZone=str(tz), start=start.astimezone(tz), end=end.astimezone(tz), items=out)


def _title(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 80 else line[:79] + "…"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def new_feed(session: AsyncSession, st: SocialState, tenant_id: str) -> str:
    """A new secret feed URL; the previous one stops working."""
    secret = secrets.token_urlsafe(32)
    await CalendarRepository(session, tenant_id).set_feed(_hash(secret), st.now())
    return f"{st.settings.public_url.rstrip('/')}/api/v1/calendar/feed/{tenant_id}/{secret}.ics"


async def feed_allowed(session: AsyncSession, tenant_id: str, secret: str) -> bool:
    stored = await CalendarRepository(session, tenant_id).feed_hash()
    return stored is not None and hmac.compare_digest(stored, _hash(secret))


def ics(cal: CalendarOut, tenant_id: str) -> bytes:
    c = Calendar()
    c.add("prodid", "-//Fairway//Content calendar//EN")
    c.add("version", "2.0")
    c.add("x-wr-calname", f"Fairway content calendar ({tenant_id})")
    c.add("x-wr-timezone", cal.timeZone)
    for e in cal.items:
        ev = Event()
        ev.add("uid", f"{e.kind.lower()}-{e.id}@fairway")
        ev.add("summary", f"[{'/'.join(e.channels)}] {e.title}")
        ev.add("dtstart", e.start)
        ev.add("dtend", e.start + timedelta(minutes=30))
        ev.add("dtstamp", e.start)
        ev.add("status", "CANCELLED" if e.status == "CANCELLED" else "CONFIRMED")
        ev.add("description", f"{e.kind.replace('_', ' ').title()} · {e.status}")
        c.add_component(ev)
    return c.to_ical()
