"""dispatch.policy, the timing rules, with no database: quiet hours across daylight-saving changes (Europe/London)
and without them (Africa/Johannesburg), the best hour within a window, the control group's stable hash."""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from fairway_campaigns.dispatch import policy
from fairway_campaigns.dispatch.policy import DispatchSettings, QuietHours

NIGHT = QuietHours(start=time(21), end=time(8))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("at", "zone", "release"), [
    # London springs forward on 29 March 2026: 08:00 next morning is BST, 07:00 UTC (the evening before was GMT).
    (utc(2026, 3, 28, 22, 0), "Europe/London", utc(2026, 3, 29, 7, 0)),
    # ... and falls back on 25 October 2026: held at 22:30 BST, released at 08:00 GMT = 08:00 UTC (a 25-hour day).
    (utc(2026, 10, 24, 21, 30), "Europe/London", utc(2026, 10, 25, 8, 0)),
    # After midnight, the same morning's end.
    (utc(2026, 3, 29, 0, 30), "Europe/London", utc(2026, 3, 29, 7, 0)),
    # Johannesburg has no daylight saving: 08:00 SAST is 06:00 UTC on both weekends.
    (utc(2026, 3, 28, 20, 0), "Africa/Johannesburg", utc(2026, 3, 29, 6, 0)),
    (utc(2026, 10, 24, 20, 0), "Africa/Johannesburg", utc(2026, 10, 25, 6, 0)),
])
def test_quiet_hours_end_at_local_wall_time(at: datetime, zone: str, release: datetime) -> None:
    assert policy.quiet_release(at, zone, NIGHT) == release


def test_outside_quiet_hours_nothing_is_held() -> None:
    assert policy.quiet_release(utc(2026, 3, 29, 7, 0), "Europe/London", NIGHT) is None  # 08:00 BST
    assert policy.quiet_release(utc(2026, 3, 29, 6, 59), "Europe/London", NIGHT) == utc(2026, 3, 29, 7, 0)
    assert policy.quiet_release(utc(2026, 3, 28, 18, 59), "Africa/Johannesburg", NIGHT) is None  # 20:59 SAST
    assert policy.quiet_release(utc(2026, 3, 28, 19, 0), "Africa/Johannesburg", None) is None
    daytime = QuietHours(start=time(12), end=time(14))  # a window that does not wrap midnight
    assert policy.quiet_release(utc(2026, 6, 1, 10, 30), "Africa/Johannesburg", daytime) == utc(2026, 6, 1, 12, 0)


def test_best_time_is_the_likeliest_open_hour_outside_quiet_hours() -> None:
    hourly = [0.0] * 24
    hourly[7], hourly[19], hourly[23] = 0.2, 0.3, 0.5  # 23:00 is likeliest but quiet
    start, end = utc(2026, 6, 1, 4, 0), utc(2026, 6, 2, 4, 0)  # 06:00 SAST to 06:00 next day
    got = policy.best_time(start, end, "Africa/Johannesburg", tuple(hourly), "Africa/Johannesburg", NIGHT)
    assert got == utc(2026, 6, 1, 17, 0)  # 19:00 SAST
    # Hours of the profile's own zone: the same pattern in London time picks 19:00 BST = 18:00 UTC.
    got = policy.best_time(start, end, "Africa/Johannesburg", tuple(hourly), "Europe/London", NIGHT)
    assert got == utc(2026, 6, 1, 18, 0)
    # A window entirely in quiet hours: its start, held to the morning.
    got = policy.best_time(utc(2026, 6, 1, 20, 0), utc(2026, 6, 1, 22, 0), "Africa/Johannesburg", tuple(hourly),
                           "Africa/Johannesburg", NIGHT)
    assert got == utc(2026, 6, 2, 6, 0)


def test_control_group_is_stable_and_about_its_share() -> None:
    ids = [f"prof-{i:05d}" for i in range(20000)]
    first = {p for p in ids if policy.control_bucket("fairwaygolf", p) < 0.1}
    assert first == {p for p in ids if policy.control_bucket("fairwaygolf", p) < 0.1}
    assert 1800 < len(first) < 2200
    other = {p for p in ids if policy.control_bucket("stonehaven", p) < 0.1}
    assert first != other  # each club has its own group


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValidationError, match="defaultTimeZone"):
        DispatchSettings(defaultTimeZone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="controlGroupShare"):
        DispatchSettings(controlGroupShare=0.9)
    with pytest.raises(ValidationError, match="differ"):
        QuietHours(start=time(9), end=time(9))
