"""What each identity, timeline and scoring event means for a read-model row (column -> new value).

Values are cleaned on the way in: PostgreSQL text cannot hold NUL, non-finite numbers compare differently in SQL
and Python, and an absurd number must not turn one person's event into a poison event.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, get_args

from pydantic import ValidationError

from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot, ProfileStatus
from fairway_events.contracts.scoring import ScoreUpdated
from fairway_events.contracts.state import ScoresState
from fairway_events.contracts.timeline import TimelineCountersUpdated

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

ATTRIBUTE_COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "membershipNumber": "membership_number",
    "membershipTier": "membership_tier",
    "membershipStatus": "membership_status",
    "memberSince": "member_since",
    "membershipExpiry": "membership_expiry",
    "handicap": "handicap",
    "homeClub": "home_club",
    "lifetimeValue": "lifetime_value",
}
CONSENT_COLUMNS = {
    "emailOptIn": "email_opt_in",
    "smsOptIn": "sms_opt_in",
    "pushOptIn": "push_opt_in",
    "whatsappOptIn": "whatsapp_opt_in",
}
COUNTER_COLUMNS = {
    "activityCount30d": "activity_count_30d",
    "activityCount90d": "activity_count_90d",
    "bookingCount30d": "booking_count_30d",
    "bookingCount90d": "booking_count_90d",
    "roundsPlayed30d": "rounds_played_30d",
    "roundsPlayed90d": "rounds_played_90d",
    "emailSends30d": "email_sends_30d",
    "emailOpens30d": "email_opens_30d",
    "emailClicks30d": "email_clicks_30d",
}
LAST_COLUMNS = {
    "lastActivityAt": "last_activity_at",
    "lastBookingAt": "last_booking_at",
    "lastRoundAt": "last_round_at",
    "lastEmailOpenAt": "last_email_open_at",
    "lastEmailClickAt": "last_email_click_at",
}
SCORE_COLUMNS = ("engagement_score", "churn_risk_score", "risk_level", "predicted_clv", "value_segment")
STATUSES = set(get_args(ProfileStatus))


class BadChange(ValueError):
    """A profile.updated whose changes cannot be applied (wrong type for a field)."""


def text(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).replace("\x00", "")
    return s or None


def number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None


def bigint(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and abs(v) <= INT8_MAX else None


def count(v: int) -> int:
    return min(max(v, 0), INT4_MAX)


def tags(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        t = text(v)
        if t is not None and t not in out:
            out.append(t)
    return out


def identity_values(ids: Identities) -> dict[str, Any]:
    emails = tags([e.strip().lower() for e in ids.email])
    return {
        "email": text(ids.email[0].strip()) if ids.email else None,
        "phone_number": text(ids.phoneNumber[0]) if ids.phoneNumber else None,
        "messaging_contact_id": text(ids.messagingContactId[0]) if ids.messagingContactId else None,
        "emails": emails,
        "scl_member_ids": tags([s.strip().lower() for s in ids.sclMemberId]),
    }


def attribute_values(a: Attributes, only: set[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, col in ATTRIBUTE_COLUMNS.items():
        if only is not None and field not in only:
            continue
        v = getattr(a, field)
        if field == "handicap":
            out[col] = number(v)
        elif field == "lifetimeValue":
            out[col] = bigint(v)
        elif field in ("memberSince", "membershipExpiry"):
            out[col] = v
        else:
            out[col] = text(v)
    return out


def consent_values(c: Consent, only: set[str] | None = None) -> dict[str, Any]:
    return {col: getattr(c, f) for f, col in CONSENT_COLUMNS.items() if only is None or f in only}


def snapshot_values(s: ProfileSnapshot) -> dict[str, Any]:
    return {
        "status": s.status,
        "lifecycle_stage": text(s.lifecycleStage),
        "tags": tags(s.tags),
        **attribute_values(s.attributes),
        **consent_values(s.consent),
        **identity_values(s.identities),
    }


def change_values(changes: dict[str, Any]) -> dict[str, Any]:
    """profile.updated carries changed fields only; attributes may come flat or under "attributes"."""
    flat = dict(changes)
    for nested in ("attributes", "consent"):
        if isinstance(flat.get(nested), dict):
            flat.update(flat.pop(nested))
    out: dict[str, Any] = {}
    try:
        attrs = {k: flat[k] for k in ATTRIBUTE_COLUMNS if k in flat}
        if attrs:
            out.update(attribute_values(Attributes.model_validate(attrs), set(attrs)))
        consent = {k: flat[k] for k in CONSENT_COLUMNS if k in flat}
        if consent:
            out.update(consent_values(Consent.model_validate(consent), set(consent)))
        if isinstance(flat.get("identities"), dict):
            out.update(identity_values(Identities.model_validate(flat["identities"])))
    except ValidationError as exc:
        raise BadChange(f"profile.updated changes do not fit the profile: {exc.errors()[0]}") from exc
    if "status" in flat:
        if flat["status"] not in STATUSES:
            raise BadChange(f"unknown status {flat['status']!r}")
        out["status"] = flat["status"]
    if "lifecycleStage" in flat:
        out["lifecycle_stage"] = text(flat["lifecycleStage"])
    if "tags" in flat:
        if not isinstance(flat["tags"], list):
            raise BadChange("tags must be a list")
        out["tags"] = tags(flat["tags"])
    return out


def counter_values(c: TimelineCountersUpdated) -> dict[str, Any]:
    out: dict[str, Any] = {col: count(getattr(c, f)) for f, col in COUNTER_COLUMNS.items()}
    out.update({col: getattr(c, f) for f, col in LAST_COLUMNS.items()})
    out["last_activity_type"] = text(c.lastActivityType)
    out["counters_as_of"] = c.asOf
    return out


def score_values(s: ScoreUpdated | ScoresState, as_of: datetime) -> dict[str, Any]:
    return {
        "engagement_score": number(s.engagementScore),
        "churn_risk_score": number(s.churnRiskScore),
        "risk_level": s.riskLevel,
        "predicted_clv": number(s.predictedClv),
        "value_segment": text(s.valueSegment),
        "scores_as_of": as_of,
    }
