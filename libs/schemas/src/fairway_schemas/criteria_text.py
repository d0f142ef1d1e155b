"""Criteria read back in plain language, so staff see what a segment means before they save it.

`describe(group)` -> "Members whose membership tier is Silver or Bronze and whose handicap is over 20". The
reading follows the semantics of `criteria_eval` exactly (relative dates, NULL handling of negative operators), so
whatever produced the criteria (the rule parser, an LLM, a person in the editor) is shown the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairway_schemas.criteria import (
    STANDARD_CATALOGUE,
    FieldSpec,
    FieldType,
    Group,
    Operator,
    RelativeDate,
    Rule,
)

# How each standard field reads in a sentence ("whose <noun> is ..."); fields of other catalogues use their
# description.
NOUNS: dict[str, str] = {
    "status": "profile status",
    "lifecycleStage": "lifecycle stage",
    "membershipTier": "membership tier",
    "membershipStatus": "membership status",
    "engagementScore": "engagement score",
    "churnRiskScore": "churn risk score",
    "bookingCount30d": "number of tee time bookings in the last 30 days",
    "bookingCount90d": "number of tee time bookings in the last 90 days",
    "activityCount30d": "number of activities in the last 30 days",
    "activityCount90d": "number of activities in the last 90 days",
    "roundsPlayed30d": "number of rounds played in the last 30 days",
    "roundsPlayed90d": "number of rounds played in the last 90 days",
    "emailSends30d": "number of emails sent to them in the last 30 days",
    "emailOpens30d": "number of emails opened in the last 30 days",
    "emailClicks30d": "number of email clicks in the last 30 days",
    "lastActivityAt": "last activity",
    "lastBookingAt": "last tee time booking",
    "lastRoundAt": "last round",
    "lastEmailOpenAt": "last email opened",
    "lastEmailClickAt": "last email click",
    "lastActivityType": "last activity type",
    "emailOptIn": "email consent",
    "smsOptIn": "SMS consent",
    "pushOptIn": "push consent",
    "whatsappOptIn": "WhatsApp consent",
    "handicap": "handicap",
    "lifetimeValue": "lifetime spend",
    "predictedClv": "predicted lifetime value (next 12 months)",
    "valueSegment": "value segment",
    "tags": "tags",
    "memberSince": "membership start",
    "membershipExpiry": "membership expiry",
    "homeClub": "home club",
    "riskLevel": "churn risk level",
}
MONEY_FIELDS = {"lifetimeValue", "predictedClv"}  # held in cents
NEVER: dict[str, str] = {
    "lastActivityAt": "who have no recorded activity",
    "lastBookingAt": "who have never booked a tee time",
    "lastRoundAt": "who have never played a recorded round",
    "lastEmailOpenAt": "who have never opened an email",
    "lastEmailClickAt": "who have never clicked an email link",
}


def describe(group: Group, catalogue: Mapping[str, FieldSpec] | None = None, *, subject: str = "Members") -> str:
    """The whole criteria as one sentence."""
    cat = catalogue if catalogue is not None else STANDARD_CATALOGUE
    if not group.rules:
        return f"All {subject.lower()} (no conditions)" if not group.not_ else f"No {subject.lower()}"
    return f"{subject} {_group(group, cat, top=True)}"


def _group(group: Group, cat: Mapping[str, FieldSpec], *, top: bool = False) -> str:
    joiner = " and " if group.combinator == "AND" else " or "
    parts = [_rule(r, cat) if isinstance(r, Rule) else _nested(r, cat) for r in group.rules]
    text = joiner.join(parts)
    if group.not_:
        return f"who are not ({text})"
    return text if top or len(parts) == 1 else f"({text})"


def _nested(group: Group, cat: Mapping[str, FieldSpec]) -> str:
    inner = _group(group, cat)
    return inner if inner.startswith(("(", "who are not")) else f"({inner})"


def _noun(field: str, cat: Mapping[str, FieldSpec]) -> str:
    if field in NOUNS:
        return NOUNS[field]
    spec = cat.get(field)
    return spec.description.lower() if spec else field


def _value(field: str, v: Any, spec: FieldSpec | None) -> str:
    if isinstance(v, RelativeDate):
        return _relative(v)
    if isinstance(v, dict) and "relative" in v:
        return _relative(RelativeDate(relative=v["relative"]))
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float) and field in MONEY_FIELDS:
        return f"{v / 100:,.2f} (in the club's currency)"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str) and spec is not None and spec.type is FieldType.enum:
        return v.replace("_", " ").title()
    return str(v)


def _relative(r: RelativeDate) -> str:
    days = r.offset().total_seconds() / 86400
    if abs(days) < 1e-9:
        return "now"
    n = abs(days)
    # Days unless whole years or weeks: "30 days ago" is exact where "1 month ago" is not.
    if n % 365 == 0:
        amount, unit = int(n // 365), "year"
    elif n % 7 == 0 and n <= 56:
        amount, unit = int(n // 7), "week"
    elif n >= 1 and float(n).is_integer():
        amount, unit = int(n), "day"
    else:
        return r.relative
    words = f"{amount} {unit}{'s' if amount != 1 else ''}"
    return f"{words} ago" if days < 0 else f"{words} from now"


def _list(field: str, values: list[Any], spec: FieldSpec | None, joiner: str) -> str:
    items = [_value(field, v, spec) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {joiner} " + items[-1]


def _rule(rule: Rule, cat: Mapping[str, FieldSpec]) -> str:
    f, op, v = rule.field, rule.operator, rule.value
    spec = cat.get(f)
    noun = _noun(f, cat)
    is_date = spec is not None and spec.type is FieldType.date
    if spec is not None and spec.type is FieldType.boolean and op in (Operator.eq, Operator.neq):
        given = (v is True) == (op is Operator.eq)
        return f"who have {noun}" if given else f"who do not have {noun}"
    if f == "tags":
        if op is Operator.contains:
            return f"tagged {_value(f, v, spec)}"
        if op is Operator.notContains:
            return f"not tagged {_value(f, v, spec)}"
    if op is Operator.isNull:
        return NEVER.get(f) or (f"with no {noun}" if not is_date else f"with no {noun} recorded")
    if op is Operator.isNotNull:
        return f"with a {noun} recorded"
    if op is Operator.between:
        assert isinstance(v, list)  # validated criteria: between takes [low, high]
        lo, hi = v
        if is_date:
            return f"whose {noun} is between {_value(f, lo, spec)} and {_value(f, hi, spec)}"
        return f"whose {noun} is between {_value(f, lo, spec)} and {_value(f, hi, spec)} (inclusive)"
    if op is Operator.in_:
        return f"whose {noun} is {_list(f, list(v), spec, 'or')}"  # type: ignore[arg-type]
    if op is Operator.notIn:
        return f"whose {noun} is not {_list(f, list(v), spec, 'or')} (or not set)"  # type: ignore[arg-type]
    shown = _value(f, v, spec)
    if is_date:
        words = {Operator.gt: "after", Operator.gte: "on or after", Operator.lt: "before",
                 Operator.lte: "on or before", Operator.eq: "on", Operator.neq: "not on"}[op]
        return f"whose {noun} was {words} {shown}"
    words = {Operator.eq: "is", Operator.neq: "is not", Operator.gt: "is over", Operator.gte: "is at least",
             Operator.lt: "is under", Operator.lte: "is at most", Operator.contains: "contains",
             Operator.notContains: "does not contain"}[op]
    tail = " (or not set)" if op in (Operator.neq, Operator.notContains) else ""
    return f"whose {noun} {words} {shown}{tail}"
