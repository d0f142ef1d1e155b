"""Which read-model column holds each catalogue field, and a row seen as the evaluators' profile mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement

from fairway_schemas.criteria import STANDARD_CATALOGUE, FieldSpec
from fairway_segmentation.db import profiles

CATALOGUE: dict[str, FieldSpec] = dict(STANDARD_CATALOGUE)

FIELD_COLUMNS: dict[str, str] = {
    "status": "status",
    "lifecycleStage": "lifecycle_stage",
    "membershipTier": "membership_tier",
    "membershipStatus": "membership_status",
    "engagementScore": "engagement_score",
    "churnRiskScore": "churn_risk_score",
    "bookingCount30d": "booking_count_30d",
    "bookingCount90d": "booking_count_90d",
    "activityCount30d": "activity_count_30d",
    "lastActivityAt": "last_activity_at",
    "lastBookingAt": "last_booking_at",
    "lastEmailOpenAt": "last_email_open_at",
    "lastEmailClickAt": "last_email_click_at",
    "emailOptIn": "email_opt_in",
    "smsOptIn": "sms_opt_in",
    "handicap": "handicap",
    "lifetimeValue": "lifetime_value",
    "tags": "tags",
    "memberSince": "member_since",
    "membershipExpiry": "membership_expiry",
    "pushOptIn": "push_opt_in",
    "whatsappOptIn": "whatsapp_opt_in",
    "homeClub": "home_club",
    "activityCount90d": "activity_count_90d",
    "roundsPlayed30d": "rounds_played_30d",
    "roundsPlayed90d": "rounds_played_90d",
    "lastRoundAt": "last_round_at",
    "lastActivityType": "last_activity_type",
    "emailSends30d": "email_sends_30d",
    "emailOpens30d": "email_opens_30d",
    "emailClicks30d": "email_clicks_30d",
    "riskLevel": "risk_level",
    "predictedClv": "predicted_clv",
    "valueSegment": "value_segment",
}

COLUMNS: dict[str, ColumnElement[Any]] = {f: profiles.c[c] for f, c in FIELD_COLUMNS.items()}

# Only people identity knows and who are still people are ever members of anything.
ELIGIBLE_STATUSES = ("ACTIVE", "INACTIVE")
ELIGIBLE = profiles.c.status.in_(ELIGIBLE_STATUSES)

CONTACT_COLUMNS = ("email", "phone_number", "messaging_contact_id")


def is_eligible(row: Mapping[Any, Any]) -> bool:
    return row.get("status") in ELIGIBLE_STATUSES


def as_profile(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A read-model row as {catalogue field: value}, what `criteria_eval` evaluates."""
    return {f: row.get(c) for f, c in FIELD_COLUMNS.items()}


def contact(row: Mapping[Any, Any]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in CONTACT_COLUMNS)
