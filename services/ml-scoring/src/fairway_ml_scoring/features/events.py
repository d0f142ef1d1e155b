"""Events as the feature log keeps them: one row per event, with its event time (not arrival time).

Upstream events carry identity hints; crm.identity and crm.timeline events carry a profile id. Both become a
`LogEvent` with a kind, an amount where money moved, and the attributes it states (membership expiry,
handicap, consent flags...), which the feature engine reads as time series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fairway_events import Envelope
from fairway_ml_scoring.features.keys import keys_from_hints

# Kinds that count as the member doing something with the club: recency, frequency and the churn label.
ACTIVITY_KINDS = frozenset({"booking", "round", "purchase", "payment", "membership_renewed"})
# Kinds where the member spent money (renewal fees arrive as SCL payments, so renewals are not added twice).
SPEND_KINDS = frozenset({"booking", "purchase", "payment"})
TRANSACTION_KINDS = frozenset({"purchase", "payment"})

UPSTREAM_KIND = {
    "teetime.booking.created": "booking",
    "teetime.booking.cancelled": "booking_cancelled",
    "teetime.round.played": "round",
    "teetime.purchase.completed": "purchase",
    "teetime.handicap.updated": "handicap",
    "teetime.player.created": "player",
    "scl.member.created": "member",
    "scl.member.updated": "member",
    "scl.membership.renewed": "membership_renewed",
    "scl.membership.cancelled": "membership_cancelled",
    "scl.payment.received": "payment",
    "messaging.email.sent": "email_sent",
    "messaging.email.delivered": "email_delivered",
    "messaging.email.opened": "email_opened",
    "messaging.email.clicked": "email_clicked",
    "messaging.email.bounced": "email_bounced",
    "messaging.sms.sent": "sms_sent",
    "messaging.sms.delivered": "sms_delivered",
    "messaging.push.sent": "push_sent",
    "messaging.push.opened": "push_opened",
    "messaging.unsubscribed": "unsubscribed",
    "contactPreference.updated": "consent",
}
PROFILE_ATTRIBUTES = ("membershipTier", "membershipStatus", "memberSince", "membershipExpiry", "handicap")
CONSENT_FLAGS = ("emailOptIn", "smsOptIn", "pushOptIn", "whatsappOptIn")


@dataclass
class LogEvent:
    tenant_id: str
    event_id: str
    kind: str
    occurred_at: datetime
    keys: list[str] = field(default_factory=list)  # identity keys (upstream), strongest first
    profile_id: str | None = None  # set when the event names a profile (crm.identity, crm.timeline)
    amount: float | None = None
    quantity: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _pick(model: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: _plain(getattr(model, n)) for n in names if getattr(model, n, None) is not None}


def from_upstream(env: Envelope, phone_region: str = "ZA") -> LogEvent | None:
    kind = UPSTREAM_KIND.get(env.event_type)
    if kind is None:
        return None  # e.g. teetime.competition.published: about no person
    hints = env.payload.identity.model_dump()
    data = env.payload.payload
    ev = LogEvent(
        tenant_id=env.tenant_id,
        event_id=env.event_id,
        kind=kind,
        occurred_at=env.occurred_at,
        keys=keys_from_hints(hints, phone_region),
    )
    if not ev.keys:
        return None
    amount = getattr(data, "amount", None)
    ev.amount = float(amount) if amount is not None else None
    if kind == "booking":
        ev.quantity = data.players
    elif kind == "purchase":
        ev.quantity = data.quantity
        ev.attrs = _pick(data, ("category",))
    elif kind in ("member", "membership_renewed"):
        ev.attrs = _pick(data, PROFILE_ATTRIBUTES)
    elif kind == "membership_cancelled":
        ev.attrs = _pick(data, ("reason", "effectiveDate"))
    elif kind in ("handicap", "player"):
        ev.attrs = _pick(data, ("handicap",))
    elif kind == "round":
        ev.attrs = _pick(data, ("holes", "score"))
    elif kind == "email_bounced":
        ev.attrs = _pick(data, ("bounceType",))
    elif kind == "unsubscribed":
        ev.attrs = _pick(data, ("channel", "reason"))
    elif kind == "consent":
        ev.attrs = _pick(data, CONSENT_FLAGS)
    if kind.startswith(("email_", "sms_", "push_")):
        ev.attrs.update(_pick(data, ("messageId", "campaignId")))
    return ev


def profile_attributes(env: Envelope, profile_id: str, attributes: Any, consent: Any) -> LogEvent:
    """A profile snapshot's attributes and consent, as a point in their time series."""
    attrs = _pick(attributes, PROFILE_ATTRIBUTES)
    if consent is not None:
        attrs.update(_pick(consent, CONSENT_FLAGS))
    return crm_event(env, "profile", env.occurred_at, profile_id, attrs)


def crm_event(
    env: Envelope, kind: str, occurred_at: datetime, profile_id: str, attrs: dict[str, Any]
) -> LogEvent:
    """A fact another Fairway service announced about a profile, as a point in the profile's event log."""
    return LogEvent(
        tenant_id=env.tenant_id,
        event_id=env.event_id,
        kind=kind,
        occurred_at=occurred_at,
        profile_id=profile_id,
        attrs=attrs,
    )


def is_complaint(ev_kind: str, attrs: dict[str, Any]) -> bool:
    """Upstream contract v1 has no complaint event: an unsubscribe whose reason names spam or a complaint is
    counted as one."""
    if ev_kind != "unsubscribed":
        return False
    reason = str(attrs.get("reason") or "").lower()
    return any(w in reason for w in ("spam", "complain", "abuse", "report"))
