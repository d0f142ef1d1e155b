"""The values of a legacy export: dates in the region's local time, yes/no flags, amounts, counts, handicaps.

Each parser names the column and the value it refused (`BadValue`); the reader turns that into a reject with its
file and line.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

TRUE, FALSE = {"true", "yes", "y", "1", "opt-in", "opted_in"}, {"false", "no", "n", "0", "opt-out", "opted_out"}


class BadValue(ValueError):
    pass


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_when(value: str, column: str, tz: ZoneInfo) -> datetime:
    """A date or a time; a time without a zone is the region's local time, a date alone is noon there."""
    v = value.strip()
    try:
        if m := _DMY.fullmatch(v):  # both ZA and UK systems write the day first
            d, mo, y, hh, mm, ss = m.groups()
            return datetime(int(y), int(mo), int(d), int(hh or 12), int(mm or 0), int(ss or 0), tzinfo=tz)
        if re.fullmatch(r"\d{8}", v):
            return datetime.combine(date(int(v[:4]), int(v[4:6]), int(v[6:])), time(12), tzinfo=tz)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return datetime.combine(date.fromisoformat(v), time(12), tzinfo=tz)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", v):
            at = datetime.fromisoformat(v.replace("Z", "+00:00"))
            return at if at.tzinfo else at.replace(tzinfo=tz)
    except ValueError:
        pass
    raise BadValue(f"{column} {value[:40]!r} is not a date (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD or ISO time)")


def check_range(at: datetime, column: str) -> datetime:
    if not (1900 <= at.year and at <= datetime.now(UTC)):
        raise BadValue(f"{column} {at.date().isoformat()} is before 1900 or in the future")
    return at


def parse_bool(value: str, column: str) -> bool:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise BadValue(f"{column} {value[:20]!r} is not yes/no (true/false, 1/0, opt-in/opt-out)")


def parse_amount(value: str, column: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(" ", ""))
    except InvalidOperation:
        raise BadValue(f"{column} {value[:40]!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise BadValue(f"{column} {value[:40]!r} must be a number not below 0")
    return amount.quantize(Decimal("0.01"))


def parse_int(value: str, column: str, low: int, high: int) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise BadValue(f"{column} {value[:20]!r} is not a whole number") from None
    if not low <= n <= high:
        raise BadValue(f"{column} {n} is not between {low} and {high}")
    return n


def parse_handicap(value: str) -> float:
    try:
        h = float(value.strip().replace("+", "-", 1) if value.strip().startswith("+") else value.strip())
    except ValueError:
        raise BadValue(f"handicap {value[:20]!r} is not a number") from None
    if not -10 <= h <= 54:
        raise BadValue(f"handicap {h} is not between +10 and 54")
    return h
