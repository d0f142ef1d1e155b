"""WAIT arithmetic in the member's time zone, across daylight-saving changes."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fairway_journeys.runs import timing

LONDON = ZoneInfo("Europe/London")  # clocks go forward 29 March 2026 01:00 UTC, back 25 October 2026 01:00 UTC


def test_a_day_is_a_calendar_day_across_spring_forward() -> None:
    start = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 09:00 GMT, Saturday
    due = timing.after_duration(start, "1 day", LONDON)
    assert due == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 09:00 BST: 23 hours later
    assert due.astimezone(LONDON).hour == 9


def test_a_day_is_a_calendar_day_across_fall_back() -> None:
    start = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert timing.after_duration(start, "1 day", LONDON) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 25 h


def test_hours_are_elapsed_time() -> None:
    start = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert timing.after_duration(start, "24 hours", LONDON) == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def test_time_of_day_on_weekdays_only() -> None:
    friday_evening = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)
    due = timing.next_time_of_day(friday_evening, "08:30", ["MON", "TUE", "WED", "THU", "FRI"], LONDON)
    assert due == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # Monday 08:30 BST (after the change)
    assert timing.next_time_of_day(friday_evening, "20:00", None, LONDON) == datetime(2026, 3, 27, 20, 0, tzinfo=UTC)


def test_a_time_in_the_skipped_hour_is_never_early() -> None:
    due = timing.next_time_of_day(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "01:30", None, LONDON)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST: the hour 01:00-02:00 does not exist


def test_date_attribute_with_offset_and_birthdays() -> None:
    jhb = ZoneInfo("Africa/Johannesburg")
    assert timing.at_date(date(2026, 6, 30), "-7 days", "09:00", jhb) == datetime(2026, 6, 23, 7, 0, tzinfo=UTC)
    assert timing.next_birthday(date(1988, 2, 29), date(2026, 3, 2)) == date(2027, 3, 1)
    assert timing.next_birthday(date(1975, 7, 14), date(2026, 3, 2)) == date(2026, 7, 14)
