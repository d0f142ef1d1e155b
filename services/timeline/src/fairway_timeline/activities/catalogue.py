"""Which upstream event becomes which activity: type, category, title, a small payload, and whether it counts.

"Counts" marks engagement: something the person did. Only those feed activityCount30d/90d and
lastActivityAt/Type; outbound messages, deliveries, record updates and staff notes are on the timeline but do
not count, or a newsletter would make every member look active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Category(StrEnum):
    BOOKING = "BOOKING"
    GOLF = "GOLF"
    MEMBERSHIP = "MEMBERSHIP"
    BILLING = "BILLING"
    ENGAGEMENT = "ENGAGEMENT"
    SUPPORT = "SUPPORT"


class ActivityType(StrEnum):
    BOOKING_CREATED = "BOOKING_CREATED"
    BOOKING_CANCELLED = "BOOKING_CANCELLED"
    ROUND_PLAYED = "ROUND_PLAYED"
    HANDICAP_UPDATED = "HANDICAP_UPDATED"
    COMPETITION_ENTERED = "COMPETITION_ENTERED"
    COMPETITION_WITHDRAWN = "COMPETITION_WITHDRAWN"
    PLAYER_CREATED = "PLAYER_CREATED"
    MEMBER_CREATED = "MEMBER_CREATED"
    MEMBER_UPDATED = "MEMBER_UPDATED"
    MEMBERSHIP_RENEWED = "MEMBERSHIP_RENEWED"
    MEMBERSHIP_CANCELLED = "MEMBERSHIP_CANCELLED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    PURCHASE = "PURCHASE"
    EMAIL_SENT = "EMAIL_SENT"
    EMAIL_DELIVERED = "EMAIL_DELIVERED"
    EMAIL_OPENED = "EMAIL_OPENED"
    EMAIL_CLICKED = "EMAIL_CLICKED"
    EMAIL_BOUNCED = "EMAIL_BOUNCED"
    SMS_SENT = "SMS_SENT"
    SMS_DELIVERED = "SMS_DELIVERED"
    PUSH_SENT = "PUSH_SENT"
    PUSH_OPENED = "PUSH_OPENED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    CONSENT_CHANGED = "CONSENT_CHANGED"
    NOTE_ADDED = "NOTE_ADDED"


@dataclass(frozen=True)
class Kind:
    type: ActivityType
    category: Category
    counts: bool


T, C = ActivityType, Category
KINDS: dict[ActivityType, Kind] = {
    k.type: k
    for k in (
        Kind(T.BOOKING_CREATED, C.BOOKING, True),
        Kind(T.BOOKING_CANCELLED, C.BOOKING, True),
        Kind(T.ROUND_PLAYED, C.GOLF, True),
        Kind(T.HANDICAP_UPDATED, C.GOLF, False),  # a consequence of rounds, not a separate act
        Kind(T.COMPETITION_ENTERED, C.GOLF, True),
        Kind(T.COMPETITION_WITHDRAWN, C.GOLF, True),
        Kind(T.PLAYER_CREATED, C.GOLF, False),
        Kind(T.MEMBER_CREATED, C.MEMBERSHIP, False),
        Kind(T.MEMBER_UPDATED, C.MEMBERSHIP, False),
        Kind(T.MEMBERSHIP_RENEWED, C.MEMBERSHIP, True),
        Kind(T.MEMBERSHIP_CANCELLED, C.MEMBERSHIP, True),
        Kind(T.PAYMENT_RECEIVED, C.BILLING, True),
        Kind(T.PURCHASE, C.BILLING, True),
        Kind(T.EMAIL_SENT, C.ENGAGEMENT, False),
        Kind(T.EMAIL_DELIVERED, C.ENGAGEMENT, False),
        Kind(T.EMAIL_OPENED, C.ENGAGEMENT, True),
        Kind(T.EMAIL_CLICKED, C.ENGAGEMENT, True),
        Kind(T.EMAIL_BOUNCED, C.ENGAGEMENT, False),
        Kind(T.SMS_SENT, C.ENGAGEMENT, False),
        Kind(T.SMS_DELIVERED, C.ENGAGEMENT, False),
        Kind(T.PUSH_SENT, C.ENGAGEMENT, False),
        Kind(T.PUSH_OPENED, C.ENGAGEMENT, True),
        Kind(T.UNSUBSCRIBED, C.ENGAGEMENT, False),  # turning away is not engagement
        Kind(T.CONSENT_CHANGED, C.ENGAGEMENT, False),
        Kind(T.NOTE_ADDED, C.SUPPORT, False),
    )
}

# Upstream payload fields the timeline has no use for and should not copy (names, birth dates).
_PII = frozenset({"firstName", "lastName", "dateOfBirth"})
TITLE_MAX = 300


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{currency or ''} {amount:,.2f}".strip() if amount is not None else ""


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


def _join(*parts: str | None, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _paren(s: str | None) -> str:
    return f"({s})" if s else ""


def _flags(p: Any) -> str:
    names = {
        "emailOptIn": "email",
        "smsOptIn": "SMS",
        "pushOptIn": "push",
        "whatsappOptIn": "WhatsApp",
        "aiMarketingConsent": "AI marketing",
        "doNotProfile": "do not profile",
    }
    return ", ".join(
        f"{label} {'on' if getattr(p, f) else 'off'}"
        for f, label in names.items()
        if getattr(p, f, None) is not None
    )


# upstream type -> (activity type, title from the typed upstream payload)
Titler = Callable[[Any], str]
UPSTREAM: dict[str, tuple[ActivityType, Titler]] = {
    "scl.member.created": (
        T.MEMBER_CREATED,
        lambda p: _join("Member record created", _paren(p.membershipTier)),
    ),
    "scl.member.updated": (
        T.MEMBER_UPDATED,
        lambda p: _join(
            "Member details updated", _paren(_join(p.membershipTier, p.membershipStatus, sep=", "))
        ),
    ),
    "scl.membership.renewed": (
        T.MEMBERSHIP_RENEWED,
        lambda p: _join(f"Membership renewed until {p.membershipExpiry:%Y-%m-%d}", _paren(p.membershipTier)),
    ),
    "scl.membership.cancelled": (
        T.MEMBERSHIP_CANCELLED,
        lambda p: _join(
            "Membership cancelled",
            f"from {p.effectiveDate:%Y-%m-%d}" if p.effectiveDate else "",
            _paren(p.reason),
        ),
    ),
    "scl.payment.received": (
        T.PAYMENT_RECEIVED,
        lambda p: _join(f"Payment received: {_money(p.amount, p.currency)}", _paren(p.description)),
    ),
    "teetime.player.created": (T.PLAYER_CREATED, lambda p: "TeeTime player profile created"),
    "teetime.booking.created": (
        T.BOOKING_CREATED,
        lambda p: _join(
            "Tee time booked",
            f"at {p.courseName}" if p.courseName else "",
            f"for {_when(p.teeTime)}" if p.teeTime else "",
            _paren(f"{p.players} players" if p.players > 1 else ""),
        ),
    ),
    "teetime.booking.cancelled": (
        T.BOOKING_CANCELLED,
        lambda p: _join("Booking cancelled", _paren(p.reason)),
    ),
    "teetime.round.played": (
        T.ROUND_PLAYED,
        lambda p: _join(
            f"Played {p.holes} holes",
            f"at {p.courseName}" if p.courseName else "",
            _paren(f"score {p.score}" if p.score else ""),
        ),
    ),
    "teetime.handicap.updated": (
        T.HANDICAP_UPDATED,
        lambda p: _join(
            f"Handicap updated to {p.handicap:g}",
            f"from {p.previousHandicap:g}" if p.previousHandicap is not None else "",
        ),
    ),
    "teetime.competition.entry_created": (
        T.COMPETITION_ENTERED,
        lambda p: _join(
            "Entered a competition",
            _paren(f"{p.entries} of {p.capacity} entries" if p.entries and p.capacity else ""),
        ),
    ),
    "teetime.competition.entry_cancelled": (
        T.COMPETITION_WITHDRAWN,
        lambda p: _join("Withdrew from a competition", _paren(p.reason)),
    ),
    "teetime.purchase.completed": (
        T.PURCHASE,
        lambda p: _join(f"Purchase: {_money(p.amount, p.currency)}", _paren(p.category)),
    ),
    "messaging.email.sent": (
        T.EMAIL_SENT,
        lambda p: _join("Email sent", f"“{p.subject}”" if p.subject else ""),
    ),
    "messaging.email.delivered": (
        T.EMAIL_DELIVERED,
        lambda p: _join("Email delivered", f"“{p.subject}”" if p.subject else ""),
    ),
    "messaging.email.opened": (
        T.EMAIL_OPENED,
        lambda p: _join("Email opened", f"“{p.subject}”" if p.subject else ""),
    ),
    "messaging.email.clicked": (
        T.EMAIL_CLICKED,
        lambda p: _join("Email link clicked", f"“{p.subject}”" if p.subject else "", _paren(p.url)),
    ),
    "messaging.email.bounced": (
        T.EMAIL_BOUNCED,
        lambda p: _join("Email bounced", _paren(p.bounceType.lower() if p.bounceType else "")),
    ),
    "messaging.sms.sent": (T.SMS_SENT, lambda p: "SMS sent"),
    "messaging.sms.delivered": (T.SMS_DELIVERED, lambda p: "SMS delivered"),
    "messaging.push.sent": (T.PUSH_SENT, lambda p: "Push notification sent"),
    "messaging.push.opened": (T.PUSH_OPENED, lambda p: "Push notification opened"),
    "messaging.unsubscribed": (T.UNSUBSCRIBED, lambda p: f"Unsubscribed ({p.channel.lower()})"),
    "contactPreference.updated": (
        T.CONSENT_CHANGED,
        lambda p: _join("Contact preferences changed", f": {_flags(p)}" if _flags(p) else "", sep=""),
    ),
}

NOTE_TITLES = {
    "GENERAL": "General",
    "CALL": "Call",
    "MEETING": "Meeting",
    "EMAIL": "Email",
    "COMPLAINT": "Complaint",
}


@dataclass(frozen=True)
class Described:
    kind: Kind
    title: str
    payload: dict[str, Any]


def describe(event_type: str, upstream_payload: BaseModel) -> Described | None:
    """The activity an upstream event becomes, or None for events that are not about a person."""
    entry = UPSTREAM.get(event_type)
    if entry is None:
        return None
    activity_type, titler = entry
    payload = upstream_payload.model_dump(mode="json", exclude_none=True, exclude=_PII)
    return Described(KINDS[activity_type], titler(upstream_payload)[:TITLE_MAX], payload)


def note_title(note_type: str) -> str:
    return f"Note added: {NOTE_TITLES.get(note_type, note_type.title())}"


# The types each counter looks at (kept next to the kinds so the two cannot drift apart).
COUNTED_TYPES = frozenset(k.type for k in KINDS.values() if k.counts)
