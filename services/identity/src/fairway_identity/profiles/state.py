"""A profile's state as a fold over the events applied to it, and the survivorship rule. Pure.

The same `apply_*` functions run live (one event at a time, in the consumer) and in a replay (unmerge), so
a replayed profile equals the live one. Every value is an observation stamped (time, event id); all rules
are order-independent, so events of one person that arrive out of order across topics converge:

- Attributes: each (attribute, source) keeps its newest observation; the effective value comes from the
  highest-priority source that has one (PRIORITY), e.g. SCL's name beats TeeTime's, a staff correction
  beats both. A staff value of null withdraws the correction.
- Consent (Messaging's flags, only from contactPreference.updated): newest observation per flag wins.
- lifetimeValue: the sum of SCL payments and TeeTime purchases in the tenant's currency, in cents.
- Tags: a last-writer-wins set per tag, so a merge unions tags unless one side removed a tag later.
- Merge (`join`): attributes and tags as above; consent takes the more restrictive value per flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from pydantic import BaseModel

from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot
from fairway_identity.keys import ORDER

PRIORITY: dict[str, tuple[str, ...]] = {
    "firstName": ("staff", "scl", "teetime"),
    "lastName": ("staff", "scl", "teetime"),
    "dateOfBirth": ("staff", "scl"),
    "membershipNumber": ("scl",),
    "membershipTier": ("scl",),
    "membershipStatus": ("scl",),
    "memberSince": ("scl",),
    "membershipExpiry": ("scl",),
    "handicap": ("teetime",),
    "homeClub": ("staff", "scl", "teetime"),
    "lifecycleStage": ("staff",),
    "status": ("staff",),
}
ATTRIBUTES = tuple(Attributes.model_fields)  # includes lifetimeValue (computed)
STAFF_EDITABLE = ("firstName", "lastName", "dateOfBirth", "homeClub", "lifecycleStage", "status", "tags")
CONSENT_FLAGS = tuple(Consent.model_fields)
RESTRICTIONS = frozenset({"doNotProfile"})  # True is the restrictive value; for the opt-ins False is
LIFECYCLE_STAGES = ("SUBSCRIBER", "LEAD", "CUSTOMER", "ADVOCATE")
TRANSACTIONS = frozenset(
    {
        "scl.member.created",
        "scl.membership.renewed",
        "scl.payment.received",
        "teetime.booking.created",
        "teetime.round.played",
        "teetime.purchase.completed",
    }
)
# Upstream events that never change a profile's attributes or consent (only resolution and links).
INERT = frozenset(
    {
        "teetime.competition.entry_created",  # an entry names the player but changes nothing on the profile
        "teetime.competition.entry_cancelled",
        "messaging.email.sent",
        "messaging.email.delivered",
        "messaging.email.opened",
        "messaging.email.clicked",
        "messaging.email.bounced",
        "messaging.sms.sent",
        "messaging.sms.delivered",
        "messaging.push.sent",
        "messaging.push.opened",
        "messaging.unsubscribed",
        "teetime.booking.cancelled",
    }
)

_MEMBER_FIELDS = (
    "firstName",
    "lastName",
    "dateOfBirth",
    "membershipNumber",
    "membershipTier",
    "membershipStatus",
    "memberSince",
    "membershipExpiry",
    "homeClub",
)
_PLAYER_FIELDS = ("firstName", "lastName", "handicap", "homeClub")
VIEW_FIELDS = (
    *ATTRIBUTES,
    "lifecycleStage",
    "tags",
    "profileStatus",
    *(f"consent.{f}" for f in CONSENT_FLAGS),
)
# The view fields each upstream event type can change (tests check this against the full view).
TOUCHES: dict[str, tuple[str, ...]] = {
    "scl.member.created": (*_MEMBER_FIELDS, "lifecycleStage"),
    "scl.member.updated": _MEMBER_FIELDS,
    "scl.membership.renewed": ("membershipExpiry", "membershipStatus", "membershipTier", "lifecycleStage"),
    "scl.membership.cancelled": ("membershipStatus",),
    "scl.payment.received": ("lifetimeValue", "lifecycleStage"),
    "teetime.player.created": _PLAYER_FIELDS,
    "teetime.handicap.updated": ("handicap",),
    "teetime.booking.created": ("lifecycleStage",),
    "teetime.round.played": ("lifecycleStage",),
    "teetime.purchase.completed": ("lifetimeValue", "lifecycleStage"),
    "contactPreference.updated": tuple(f"consent.{f}" for f in CONSENT_FLAGS),
}


def stamp(dt: datetime) -> str:
    """A sortable UTC timestamp string: observations compare as (stamp, event id)."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _json_value(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _restrictiveness(flag: str, value: bool | None) -> int:
    """Higher = more restrictive."""
    if flag in RESTRICTIONS:
        return {True: 2, None: 1, False: 0}[value]
    return {False: 2, None: 1, True: 0}[value]


@dataclass
class ProfileState:
    obs: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # attr -> source -> [value, at, eid]
    consent: dict[str, list[Any]] = field(default_factory=dict)  # flag -> [value, at, eid]
    tags: dict[str, list[Any]] = field(default_factory=dict)  # tag -> [present, at, eid]
    ltv: int = 0
    ltv_at: list[str] | None = None  # [at, eid] of the last contribution
    transacted: bool = False
    keys: dict[str, list[str]] = field(default_factory=dict)  # identities, in link order

    # -- observations ---------------------------------------------------------------------------------
    def observe(self, attr: str, source: str, value: Any, at: str, eid: str) -> None:
        per_source = self.obs.setdefault(attr, {})
        cur = per_source.get(source)
        if cur is None or (at, eid) > (cur[1], cur[2]):
            per_source[source] = [_json_value(value), at, eid]

    def observe_consent(self, flag: str, value: bool, at: str, eid: str) -> None:
        cur = self.consent.get(flag)
        if cur is None or (at, eid) > (cur[1], cur[2]):
            self.consent[flag] = [value, at, eid]

    def add_value(self, amount_cents: int, at: str, eid: str) -> None:
        self.ltv += amount_cents
        if self.ltv_at is None or [at, eid] > self.ltv_at:
            self.ltv_at = [at, eid]

    def set_tags(self, wanted: list[str], at: str, eid: str) -> None:
        present = set(self.tag_list())
        for tag in present - set(wanted):
            self.tags[tag] = [False, at, eid]
        for tag in set(wanted) - present:
            self.tags[tag] = [True, at, eid]

    def link(self, key_type: str, value: str) -> None:
        values = self.keys.setdefault(key_type, [])
        if value not in values:
            values.append(value)

    def unlink(self, key_type: str, value: str) -> None:
        if value in self.keys.get(key_type, []):
            self.keys[key_type].remove(value)

    # -- effective values (the survivorship rule) -----------------------------------------------------
    def winning(self, attr: str) -> tuple[Any, str, str] | None:
        """(value, source, at) of the observation that decides `attr`, or None."""
        per_source = self.obs.get(attr, {})
        for source in PRIORITY[attr]:
            o = per_source.get(source)
            if o is not None and o[0] is not None:
                return o[0], source, o[1]
        return None

    def attributes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr in ATTRIBUTES:
            if attr == "lifetimeValue":
                out[attr] = self.ltv if self.ltv_at is not None else None
            else:
                w = self.winning(attr)
                out[attr] = w[0] if w else None
        return out

    def attribute_sources(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for attr in ATTRIBUTES:
            if attr == "lifetimeValue":
                if self.ltv_at is not None:
                    out[attr] = {"source": "computed", "at": self.ltv_at[0], "eventId": self.ltv_at[1]}
                continue
            w = self.winning(attr)
            if w:
                out[attr] = {"source": w[1], "at": w[2], "eventId": self.obs[attr][w[1]][2]}
        return out

    def status(self) -> str:
        w = self.winning("status")
        return w[0] if w else "ACTIVE"

    def lifecycle_stage(self) -> str:
        w = self.winning("lifecycleStage")
        if w:
            return w[0]
        return "CUSTOMER" if self.transacted else "SUBSCRIBER"

    def consent_values(self) -> dict[str, bool | None]:
        return {f: (self.consent[f][0] if f in self.consent else None) for f in CONSENT_FLAGS}

    def consent_times(self) -> dict[str, str]:
        return {f: self.consent[f][1] for f in CONSENT_FLAGS if f in self.consent}

    def tag_list(self) -> list[str]:
        return sorted(t for t, (present, _, _) in self.tags.items() if present)

    def identities(self) -> dict[str, list[str]]:
        return {t: list(self.keys.get(t, [])) for t in ORDER}

    def field(self, name: str) -> Any:
        """One field of `view()`."""
        if name == "lifetimeValue":
            return self.ltv if self.ltv_at is not None else None
        if name == "lifecycleStage":
            return self.lifecycle_stage()
        if name == "tags":
            return self.tag_list()
        if name == "profileStatus":
            return self.status()
        if name.startswith("consent."):
            c = self.consent.get(name[8:])
            return c[0] if c else None
        w = self.winning(name)
        return w[0] if w else None

    def view(self, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Everything other services see, flat: what `profile.updated` diffs. `fields` limits it to those an
        event can change (TOUCHES), which keeps the consumer's per-event cost small."""
        return {f: self.field(f) for f in (fields or VIEW_FIELDS)}

    def snapshot(self, profile_id: str, status: str | None = None) -> ProfileSnapshot:
        return ProfileSnapshot(
            profileId=profile_id,
            status=status or self.status(),
            lifecycleStage=self.lifecycle_stage(),
            identities=Identities(**self.identities()),
            attributes=Attributes(**self.attributes()),
            consent=Consent(**self.consent_values()),
            tags=self.tag_list(),
        )

    # -- merge ----------------------------------------------------------------------------------------
    def join(self, other: ProfileState) -> None:
        """Fold `other` (a merge loser) into this state."""
        for attr, per_source in other.obs.items():
            for source, (value, at, eid) in per_source.items():
                self.observe(attr, source, value, at, eid)
        for flag, (value, at, eid) in other.consent.items():
            cur = self.consent.get(flag)
            if cur is None:
                if _restrictiveness(flag, value) >= _restrictiveness(flag, None):
                    self.consent[flag] = [value, at, eid]
                continue
            mine, theirs = _restrictiveness(flag, cur[0]), _restrictiveness(flag, value)
            if theirs > mine or (theirs == mine and (at, eid) > (cur[1], cur[2])):
                self.consent[flag] = [value, at, eid]
        for tag, (present, at, eid) in other.tags.items():
            cur = self.tags.get(tag)
            if cur is None or (at, eid) > (cur[1], cur[2]):
                self.tags[tag] = [present, at, eid]
        if other.ltv_at is not None:
            self.add_value(other.ltv, *other.ltv_at)
        self.transacted = self.transacted or other.transacted
        for t in ORDER:
            for v in other.keys.get(t, []):
                self.link(t, v)

    # -- storage --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "obs": self.obs,
            "consent": self.consent,
            "tags": self.tags,
            "ltv": self.ltv,
            "ltvAt": self.ltv_at,
            "transacted": self.transacted,
        }

    def dumps(self) -> str:
        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def loads(cls, raw: str | dict | None, keys: dict[str, list[str]] | None = None) -> ProfileState:
        d = orjson.loads(raw) if isinstance(raw, str) else (raw or {})
        return cls(
            obs=d.get("obs", {}),
            consent=d.get("consent", {}),
            tags=d.get("tags", {}),
            ltv=d.get("ltv", 0),
            ltv_at=d.get("ltvAt"),
            transacted=d.get("transacted", False),
            keys={t: list(v) for t, v in (keys or {}).items() if v},
        )


# -- applying events ----------------------------------------------------------------------------------
_MEMBER_FIELDS = (
    "firstName",
    "lastName",
    "dateOfBirth",
    "membershipNumber",
    "membershipTier",
    "membershipStatus",
    "memberSince",
    "membershipExpiry",
    "homeClub",
)
_PLAYER_FIELDS = ("firstName", "lastName", "handicap", "homeClub")


def apply_upstream(
    state: ProfileState, event_type: str, payload: BaseModel, at: str, eid: str, currency: str
) -> None:
    """Apply the attribute and consent effects of one upstream event (its `.payload` part)."""
    if event_type in INERT:
        return
    if event_type in TRANSACTIONS:
        state.transacted = True
    p = payload
    if event_type in ("scl.member.created", "scl.member.updated"):
        _observe_fields(state, p, _MEMBER_FIELDS, "scl", at, eid)
    elif event_type == "teetime.player.created":
        _observe_fields(state, p, _PLAYER_FIELDS, "teetime", at, eid)
    elif event_type == "teetime.handicap.updated":
        state.observe("handicap", "teetime", p.handicap, at, eid)
    elif event_type == "scl.membership.renewed":
        state.observe("membershipExpiry", "scl", p.membershipExpiry, at, eid)
        state.observe("membershipStatus", "scl", "ACTIVE", at, eid)
        if p.membershipTier:
            state.observe("membershipTier", "scl", p.membershipTier, at, eid)
    elif event_type == "scl.membership.cancelled":
        state.observe("membershipStatus", "scl", "CANCELLED", at, eid)
    elif event_type in ("scl.payment.received", "teetime.purchase.completed"):
        if p.currency == currency:
            state.add_value(cents(p.amount), at, eid)
    elif event_type == "contactPreference.updated":
        for flag in CONSENT_FLAGS:
            value = getattr(p, flag)
            if value is not None:
                state.observe_consent(flag, value, at, eid)


def _observe_fields(
    state: ProfileState, p: BaseModel, names: tuple[str, ...], source: str, at: str, eid: str
) -> None:
    for name in names:
        value = getattr(p, name)
        if value is not None:  # not sent is not "cleared": upstream payloads are partial
            state.observe(name, source, value, at, eid)


def apply_staff(state: ProfileState, changes: dict[str, Any], at: str, eid: str) -> None:
    """A staff edit (PATCH): staff observations outrank upstream ones for the editable fields."""
    for name, value in changes.items():
        if name == "tags":
            state.set_tags(value or [], at, eid)
        else:
            state.observe(name, "staff", value, at, eid)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(changed non-consent fields with new values, changed consent flags)."""
    changes: dict[str, Any] = {}
    consent: list[str] = []
    for k, v in after.items():
        if before.get(k) != v:
            if k.startswith("consent."):
                consent.append(k[8:])
            else:
                changes["status" if k == "profileStatus" else k] = v
    return changes, consent
