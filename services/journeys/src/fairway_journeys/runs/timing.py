"""When a WAIT ends, in the member's time zone. Pure functions of (now, step, member), tested directly.

Days and weeks are calendar days on the member's wall clock: "wait 1 day" from 09:00 the day before a
daylight-saving change ends at 09:00 the next day (23 or 25 hours later). Hours and minutes are elapsed time.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fairway_journeys.definitions.model import WEEKDAYS, Duration

ATTRIBUTE_DEFAULT_AT = "09:00"


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` to UTC. An ambiguous time (autumn) is its first occurrence; a time inside
    a spring-forward gap is read with the offset before the gap, so it lands as far after the gap's start as it
    was meant to (02:30 in a skipped 02:00-03:00 is 03:30): never earlier than intended."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def after_duration(now: datetime, text: str, tz: ZoneInfo) -> datetime:
    n, unit = Duration.parse(text)
    if unit == "day":
        local = now.astimezone(tz).replace(tzinfo=None)
        return local_to_utc(local + timedelta(days=n), tz)
    return now + Duration.elapsed(text)


def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def next_time_of_day(now: datetime, at: str, weekdays: list[str] | None, tz: ZoneInfo) -> datetime:
    """The first moment after `now` when the member's clock shows `at` on one of `weekdays` (any day if None)."""
    allowed = {WEEKDAYS.index(d) for d in weekdays} if weekdays else set(range(7))
    local_now = now.astimezone(tz)
    for days in range(0, 8):
        day = local_now.date() + timedelta(days=days)
        if day.weekday() not in allowed:
            continue
        candidate = local_to_utc(datetime.combine(day, _hhmm(at)), tz)
        if candidate > now:
            return candidate
    raise AssertionError("a week always holds an allowed day")  # pragma: no cover


def next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            d = born.replace(year=year)
        except ValueError:  # 29 February in a common year: the day after the 28th
            d = date(year, 3, 1)
        if d >= today:
            return d
    raise AssertionError("unreachable")  # pragma: no cover


def attribute_day(attribute: str, values: dict[str, date | None], today: date) -> date | None:
    if attribute == "birthday":
        born = values.get("dateOfBirth")
        return next_birthday(born, today) if born else None
    return values.get(attribute)


def at_date(day: date, offset: str | None, at: str | None, tz: ZoneInfo) -> datetime:
    """`day` moved by `offset` ("-7 days"), at `at` on the member's clock."""
    if offset:
        n, unit = Duration.parse(offset)
        day = day + (timedelta(days=n) if unit == "day" else timedelta(0))
    return local_to_utc(datetime.combine(day, _hhmm(at or ATTRIBUTE_DEFAULT_AT)), tz)
