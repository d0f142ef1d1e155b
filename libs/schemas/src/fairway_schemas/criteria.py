"""The segment criteria language, shared by segmentation, campaigns, journeys and the AI gateway.

    {"combinator": "AND" | "OR", "not": false, "rules": [rule or group, ...]}
    rule: {"field": "bookingCount30d", "operator": "gte", "value": 2}
    relative dates: {"relative": "-14 days"} / {"relative": "+30 days"}

`FieldSpec` describes a field of the catalogue; `validate_criteria` checks criteria against a catalogue and
returns every problem with the path of the rule at fault (e.g. `rules[1].rules[0].value`).
Evaluators (SQL and in memory) live beside this module and must agree.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

RELATIVE_RE = re.compile(r"^\s*([+-]?)\s*(\d{1,5})\s*(minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE)
_UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


class Operator(StrEnum):
    eq = "eq"
    neq = "neq"
    gt = "gt"
    gte = "gte"
    lt = "lt"
    lte = "lte"
    in_ = "in"
    notIn = "notIn"
    contains = "contains"
    notContains = "notContains"
    between = "between"
    isNull = "isNull"
    isNotNull = "isNotNull"


class FieldType(StrEnum):
    string = "string"
    number = "number"
    boolean = "boolean"
    date = "date"
    enum = "enum"
    array = "array"  # array of strings (tags)


OPERATORS_BY_TYPE: dict[FieldType, frozenset[Operator]] = {
    FieldType.string: frozenset({Operator.eq, Operator.neq, Operator.in_, Operator.notIn, Operator.contains,
                                 Operator.notContains, Operator.isNull, Operator.isNotNull}),
    FieldType.enum: frozenset({Operator.eq, Operator.neq, Operator.in_, Operator.notIn, Operator.isNull,
                               Operator.isNotNull}),
    FieldType.number: frozenset({Operator.eq, Operator.neq, Operator.gt, Operator.gte, Operator.lt, Operator.lte,
                                 Operator.in_, Operator.notIn, Operator.between, Operator.isNull,
                                 Operator.isNotNull}),
    FieldType.date: frozenset({Operator.eq, Operator.neq, Operator.gt, Operator.gte, Operator.lt, Operator.lte,
                               Operator.between, Operator.isNull, Operator.isNotNull}),
    FieldType.boolean: frozenset({Operator.eq, Operator.neq, Operator.isNull, Operator.isNotNull}),
    FieldType.array: frozenset({Operator.contains, Operator.notContains, Operator.isNull, Operator.isNotNull}),
}


class RelativeDate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    relative: str

    @field_validator("relative")
    @classmethod
    def _shape(cls, v: str) -> str:
        if not RELATIVE_RE.match(v):
            raise ValueError("relative date must look like '-14 days' or '+30 days' (units: minutes to years)")
        return v

    def resolve(self, now: datetime) -> datetime:
        m = RELATIVE_RE.match(self.relative)
        assert m is not None
        sign = -1 if m.group(1) == "-" else 1
        return now + sign * timedelta(days=int(m.group(2)) * _UNIT_DAYS[m.group(3).lower()])


Scalar = Union[bool, int, float, str, RelativeDate, None]  # noqa: UP007 (pydantic union order matters)


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    field: str = Field(min_length=1, max_length=100)
    operator: Operator
    value: Scalar | list[Scalar] = None


class Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    combinator: Literal["AND", "OR"] = "AND"
    not_: bool = Field(default=False, alias="not")
    rules: list[Annotated[Union[Rule, Group], Field(union_mode="left_to_right")]] = Field(  # noqa: UP007
        default_factory=list, max_length=100
    )

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    type: FieldType
    description: str
    values: list[str] | None = None  # for enums
    source: str = "identity"  # which service's events fill it

    @property
    def operators(self) -> frozenset[Operator]:
        return OPERATORS_BY_TYPE[self.type]


def _f(name: str, type_: FieldType, description: str, source: str, values: list[str] | None = None) -> FieldSpec:
    return FieldSpec(name=name, type=type_, description=description, source=source, values=values)


S, N, B, D, E, A = FieldType.string, FieldType.number, FieldType.boolean, FieldType.date, FieldType.enum, FieldType.array

STANDARD_FIELDS: tuple[FieldSpec, ...] = (
    # AI marketing spec, section 3.2
    _f("status", E, "Profile status", "identity", ["ACTIVE", "INACTIVE", "MERGED", "DELETED"]),
    _f("lifecycleStage", E, "Lifecycle stage", "identity", ["SUBSCRIBER", "LEAD", "CUSTOMER", "ADVOCATE"]),
    _f("membershipTier", S, "Membership level (Bronze, Silver, Gold, Platinum, ...)", "identity"),
    _f("membershipStatus", S, "ACTIVE, EXPIRED, CANCELLED", "identity"),
    _f("engagementScore", N, "0-100, higher is more engaged", "ml-scoring"),
    _f("churnRiskScore", N, "0-100, higher is more likely to churn", "ml-scoring"),
    _f("bookingCount30d", N, "Tee time bookings in the last 30 days", "timeline"),
    _f("bookingCount90d", N, "Tee time bookings in the last 90 days", "timeline"),
    _f("activityCount30d", N, "Any activities in the last 30 days", "timeline"),
    _f("lastActivityAt", D, "Last activity timestamp", "timeline"),
    _f("lastBookingAt", D, "Last tee time booking", "timeline"),
    _f("lastEmailOpenAt", D, "Last email opened", "timeline"),
    _f("lastEmailClickAt", D, "Last email link clicked", "timeline"),
    _f("emailOptIn", B, "Email marketing consent (mirrored from Messaging)", "identity"),
    _f("smsOptIn", B, "SMS marketing consent (mirrored from Messaging)", "identity"),
    _f("handicap", N, "Golf handicap (lower is better)", "identity"),
    _f("lifetimeValue", N, "Total spend in cents", "identity"),
    _f("tags", A, "Customer tags", "identity"),
    _f("memberSince", D, "Membership start date", "identity"),
    _f("membershipExpiry", D, "Membership expiry date", "identity"),
    # What the other services publish besides
    _f("pushOptIn", B, "Push consent (mirrored from Messaging)", "identity"),
    _f("whatsappOptIn", B, "WhatsApp consent (mirrored from Messaging)", "identity"),
    _f("homeClub", S, "Home club", "identity"),
    _f("activityCount90d", N, "Any activities in the last 90 days", "timeline"),
    _f("roundsPlayed30d", N, "Rounds played in the last 30 days", "timeline"),
    _f("roundsPlayed90d", N, "Rounds played in the last 90 days", "timeline"),
    _f("lastRoundAt", D, "Last round played", "timeline"),
    _f("lastActivityType", S, "Type of the last activity (e.g. BOOKING_CREATED)", "timeline"),
    _f("emailSends30d", N, "Emails sent in the last 30 days", "timeline"),
    _f("emailOpens30d", N, "Emails opened in the last 30 days", "timeline"),
    _f("emailClicks30d", N, "Email clicks in the last 30 days", "timeline"),
    _f("riskLevel", E, "Churn risk band from ml-scoring", "ml-scoring", ["LOW", "MEDIUM", "HIGH", "CRITICAL"]),
    _f("predictedClv", N, "Predicted lifetime value for the next 12 months", "ml-scoring"),
    _f("valueSegment", S, "ml-scoring customer cluster / value segment", "ml-scoring"),
)

STANDARD_CATALOGUE: dict[str, FieldSpec] = {f.name: f for f in STANDARD_FIELDS}


class CriteriaError(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    message: str


def _is_date_value(v: Any) -> bool:
    if isinstance(v, RelativeDate):
        return True
    if isinstance(v, str):
        try:
            datetime.fromisoformat(v) if "T" in v else date.fromisoformat(v)
            return True
        except ValueError:
            return False
    return False


def _value_ok(spec: FieldSpec, v: Any) -> bool:
    if spec.type is FieldType.number:
        return isinstance(v, int | float) and not isinstance(v, bool)
    if spec.type is FieldType.boolean:
        return isinstance(v, bool)
    if spec.type is FieldType.date:
        return _is_date_value(v)
    if spec.type is FieldType.enum:
        return isinstance(v, str) and (spec.values is None or v in spec.values)
    return isinstance(v, str)  # string and array elements


def validate_criteria(group: Group, catalogue: dict[str, FieldSpec] | None = None, *, path: str = "",
                      depth: int = 0) -> list[CriteriaError]:
    """Every problem in `group`, each with the path of the rule at fault."""
    catalogue = catalogue if catalogue is not None else STANDARD_CATALOGUE
    errors: list[CriteriaError] = []
    if depth > 5:
        return [CriteriaError(path=path or "<root>", message="groups nest at most 5 deep")]
    for i, item in enumerate(group.rules):
        p = f"{path}rules[{i}]"
        if isinstance(item, Group):
            errors += validate_criteria(item, catalogue, path=f"{p}.", depth=depth + 1)
            continue
        spec = catalogue.get(item.field)
        if spec is None:
            errors.append(CriteriaError(path=f"{p}.field", message=f"unknown field {item.field!r}"))
            continue
        if item.operator not in spec.operators:
            errors.append(CriteriaError(
                path=f"{p}.operator",
                message=f"operator {item.operator.value!r} is not valid for {spec.type.value} field {spec.name!r}"
                        f" (valid: {', '.join(sorted(o.value for o in spec.operators))})"))
            continue
        op, v = item.operator, item.value
        if op in (Operator.isNull, Operator.isNotNull):
            if v is not None:
                errors.append(CriteriaError(path=f"{p}.value", message=f"{op.value} takes no value"))
        elif op in (Operator.in_, Operator.notIn):
            if not isinstance(v, list) or not v or not all(_value_ok(spec, x) for x in v):
                errors.append(CriteriaError(path=f"{p}.value",
                                            message=f"{op.value} needs a non-empty list of {spec.type.value} values"))
        elif op is Operator.between:
            if not isinstance(v, list) or len(v) != 2 or not all(_value_ok(spec, x) for x in v):
                errors.append(CriteriaError(path=f"{p}.value",
                                            message=f"between needs [low, high], two {spec.type.value} values"))
        elif spec.type is FieldType.array:
            if not isinstance(v, str):
                errors.append(CriteriaError(path=f"{p}.value", message=f"{op.value} on a list field needs a string"))
        elif isinstance(v, list) or not _value_ok(spec, v):
            expected = f"one of {spec.values}" if spec.type is FieldType.enum and spec.values else spec.type.value
            errors.append(CriteriaError(path=f"{p}.value", message=f"value {v!r} is not a valid {expected}"))
    return errors
