"""The promotion's schedule, pure: when each step is due, from the event's start, its entry deadline and the
tenant's reminder days. A reminder's time is the start of its local day (dispatch then picks each recipient's best
hour within that day, outside quiet hours); one whose time has passed is skipped, never sent late."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

ANNOUNCE_WINDOW = timedelta(hours=12)  # the announcement goes at each recipient's best time within this


class Kind(StrEnum):
    ANNOUNCE = "ANNOUNCE"  # the audience, with the social post
    REMINDER = "REMINDER"  # audience members who have not entered, with a social post
    ENTRANT_REMINDER = "ENTRANT_REMINDER"  # the day before: entrants
    DEADLINE = "DEADLINE"  # the entry deadline: pending reminders stop


class Status(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    SKIPPED = "SKIPPED"  # its time had passed (or came after the deadline) when it was planned
    STOPPED = "STOPPED"  # full, deadline passed, or cancelled


AUDIENCE_KINDS = {Kind.ANNOUNCE, Kind.REMINDER}


@dataclass(frozen=True)
class Planned:
    step: str
    kind: Kind
    days_before: int | None
    due_at: datetime
    window_end: datetime | None
    status: Status
    reason: str | None = None


def reminder_step(days: int) -> str:
    return f"REMINDER_{days}"


def _day(starts_at: datetime, days_before: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day `days_before` days before the event's local date: [its midnight, the next midnight)."""
    day = starts_at.astimezone(zone).date() - timedelta(days=days_before)
    begin = datetime.combine(day, time(0), tzinfo=zone)
    return begin, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def timed_steps(starts_at: datetime, deadline: datetime | None, reminder_days: list[int], time_zone: str,
                now: datetime) -> list[Planned]:
    """The reminders, the entrants' day-before reminder and the deadline, as of `now`."""
    zone = ZoneInfo(time_zone)
    out: list[Planned] = []
    for days in sorted(set(reminder_days), reverse=True):
        begin, end = _day(starts_at, days, zone)
        if deadline is not None:
            end = min(end, deadline)
        status, reason = Status.PENDING, None
        if begin < now:
            status, reason = Status.SKIPPED, "its time had passed when it was planned"
        elif deadline is not None and begin >= deadline:
            status, reason = Status.SKIPPED, "after the entry deadline"
        out.append(Planned(reminder_step(days), Kind.REMINDER, days, begin, end, status, reason))
    begin, end = _day(starts_at, 1, zone)
    end = min(end, starts_at)
    out.append(Planned(Kind.ENTRANT_REMINDER.value, Kind.ENTRANT_REMINDER, 1, begin, end,
                       Status.PENDING if begin >= now else Status.SKIPPED,
                       None if begin >= now else "its time had passed when it was planned"))
    if deadline is not None:
        out.append(Planned(Kind.DEADLINE.value, Kind.DEADLINE, None, deadline, None,
                           Status.PENDING if deadline >= now else Status.SKIPPED,
                           None if deadline >= now else "the deadline had passed"))
    return out


def announcement(now: datetime, delay: timedelta, starts_at: datetime) -> Planned:
    due = now + delay
    if due >= starts_at:
        return Planned(Kind.ANNOUNCE.value, Kind.ANNOUNCE, None, due, None, Status.SKIPPED, "the event has started")
    return Planned(Kind.ANNOUNCE.value, Kind.ANNOUNCE, None, due, min(due + ANNOUNCE_WINDOW, starts_at),
                   Status.PENDING)
