"""The timing rules of dispatch, with no database: quiet hours, the best hour within a window, the control group's
stable hash. Times are aware datetimes; zones are IANA names, so daylight-saving changes are the zone database's."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

Channel = Literal["EMAIL", "SMS", "PUSH"]
CHANNELS: tuple[Channel, ...] = ("EMAIL", "SMS", "PUSH")
MIN_STO_CONFIDENCE = 0.3  # below it a member's own send-time profile is not trusted; the club's pooled prior is
DEFAULT_SEND_HOUR = 10  # when nobody in the club has a confident profile yet


_CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _clock_time(value: Any) -> Any:
    """Only "HH:MM" or "HH:MM:SS": JSON Schema's `format: time` (what a plain `time` documents) demands a zone
    offset, and pydantic alone would also take seconds as a number or fractions that the answer echoes back."""
    if isinstance(value, str) and not re.fullmatch(_CLOCK_TIME, value):
        raise ValueError("a local time as HH:MM or HH:MM:SS")
    if not isinstance(value, str | time):
        raise ValueError("a local time as HH:MM or HH:MM:SS")
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time),
                      WithJsonSchema({"type": "string", "pattern": _CLOCK_TIME, "examples": ["21:00", "07:30:00"]})]


class QuietHours(BaseModel):
    """No marketing from `start` until `end`, local to the recipient (wraps midnight when start > end)."""

    model_config = ConfigDict(frozen=True)
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ (omit the channel for no quiet hours)")
        return self

    def holds(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Cap(BaseModel):
    model_config = ConfigDict(frozen=True)
    perDay: int | None = Field(default=None, ge=0)
    perWeek: int | None = Field(default=None, ge=0)


def _default_quiet() -> dict[Channel, QuietHours | None]:
    return {"EMAIL": QuietHours(start=time(21), end=time(7)), "SMS": QuietHours(start=time(20), end=time(8)),
            "PUSH": QuietHours(start=time(21), end=time(8))}


def _default_caps() -> dict[Channel, Cap]:
    return {"EMAIL": Cap(perDay=2, perWeek=5), "SMS": Cap(perDay=1, perWeek=3), "PUSH": Cap(perDay=2, perWeek=7)}


class DispatchSettings(BaseModel):
    """A tenant's dispatch policy. Caps and quiet hours never apply to transactional messages."""

    model_config = ConfigDict(frozen=True)
    defaultTimeZone: str = "Africa/Johannesburg"  # for recipients whose zone is unknown
    quietHours: dict[Channel, QuietHours | None] = Field(default_factory=_default_quiet)
    caps: dict[Channel, Cap] = Field(default_factory=_default_caps)
    controlGroupShare: float = Field(default=0.05, ge=0, le=0.5)  # of profiles that never get marketing
    maxLatenessHours: float = Field(default=6.0, gt=0, le=168)

    @field_validator("defaultTimeZone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if not valid_zone(v):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Europe/London)")
        return v

    def quiet(self, channel: str) -> QuietHours | None:
        return self.quietHours.get(channel)  # type: ignore[call-overload]

    def cap(self, channel: str) -> Cap:
        return self.caps.get(channel) or Cap()  # type: ignore[call-overload]

    @property
    def max_lateness(self) -> timedelta:
        return timedelta(hours=self.maxLatenessHours)


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def quiet_release(at: datetime, zone: str, quiet: QuietHours | None) -> datetime | None:
    """When quiet hours that hold at `at` end (in UTC), or None when `at` is outside them. The end is a wall-clock
    time in the recipient's zone, so it moves with daylight saving (08:00 BST is 07:00 UTC, 08:00 GMT is 08:00)."""
    if quiet is None:
        return None
    z = ZoneInfo(zone)
    local = at.astimezone(z)
    if not quiet.holds(local.time()):
        return None
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)  # evening: the window ends tomorrow morning
    return datetime.combine(day, quiet.end, tzinfo=z).astimezone(UTC)


def allowed_at(at: datetime, zone: str, quiet: QuietHours | None) -> datetime:
    """`at`, or the end of the quiet hours it falls in."""
    return quiet_release(at, zone, quiet) or at


def best_time(start: datetime, end: datetime, zone: str, hourly: tuple[float, ...], hours_zone: str,
              quiet: QuietHours | None) -> datetime:
    """The instant in [start, end) whose hour (in `hours_zone`, the profile's) has the highest open probability,
    outside quiet hours; the earliest of equals. Candidates are `start` and each whole hour after it."""
    hz = ZoneInfo(hours_zone)
    candidates = [start]
    t = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while t < end:
        candidates.append(t)
        t += timedelta(hours=1)
    open_ = [c for c in candidates if quiet_release(c, zone, quiet) is None]
    if not open_:
        return allowed_at(start, zone, quiet)
    return max(open_, key=lambda c: (hourly[c.astimezone(hz).hour], -c.timestamp()))


def default_hourly() -> tuple[float, ...]:
    return tuple(1.0 if h == DEFAULT_SEND_HOUR else 0.0 for h in range(24))


def control_bucket(tenant_id: str, profile_id: str) -> float:
    """A stable number in [0, 1) per profile: the control group is everyone below the tenant's share. The SQL in
    the ledger repository computes the same hash (first 32 bits of md5 over "tenant:profile")."""
    digest = hashlib.md5(f"{tenant_id}:{profile_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) / 2**32
