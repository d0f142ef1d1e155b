"""The segment criteria language, shared by segmentation, campaigns, journeys and the AI gateway.

    {"combinator": "AND" | "OR", "not": false, "rules": [rule or group, ...]}
    rule: {"field": "bookingCount30d", "operator": "gte", "value": 2}
    relative dates: {"relative": "-14 days"} / {"relative": "+30 days"}

`FieldSpec` describes a field of the catalogue; `validate_criteria` checks criteria against a catalogue and
returns every problem with the path of the rule at fault (e.g. `rules[1].rules[0].value`); `check_criteria`
does the same starting from raw JSON, so a malformed rule is reported with the same kind of path.
Evaluators live beside this module and must agree: `criteria_eval` (one profile, in memory) and
`criteria_sql` (SQLAlchemy Core, whole tables). Their shared semantics are written down in `criteria_eval`.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

RELATIVE_RE = re.compile(
    r"^\s*(?:(?P<now>now)|(?P<sign>[+-]?)\s*(?P<n>\d{1,6})\s*(?P<unit>minute|hour|day|week|month|year)s?)\s*$",
    re.IGNORECASE,
)
_UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
MAX_RELATIVE_DAYS = 100 * 365  # further than a century is a typo, and would overflow Python's datetime
MIN_YEAR, MAX_YEAR = 1800, 2999  # absolute dates outside this range are typos (e.g. "0024-01-01")
MAX_STRING = 500
MAX_LIST = 1000
MAX_DEPTH = 5


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
    """A moment relative to the evaluation time: "-14 days", "+30 days", "now"."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    relative: str

    @field_validator("relative")
    @classmethod
    def _shape(cls, v: str) -> str:
        m = RELATIVE_RE.match(v)
        if not m:
            raise ValueError("relative date must look like '-14 days', '+30 days' or 'now' (units: minutes to years)")
        if not m.group("now") and int(m.group("n")) * _UNIT_DAYS[m.group("unit").lower()] > MAX_RELATIVE_DAYS:
            raise ValueError("relative date must lie within 100 years of now")
        return v

    def offset(self) -> timedelta:
        m = RELATIVE_RE.match(self.relative)
        assert m is not None
        if m.group("now"):
            return timedelta(0)
        sign = -1 if m.group("sign") == "-" else 1
        return sign * timedelta(days=int(m.group("n")) * _UNIT_DAYS[m.group("unit").lower()])

    def resolve(self, now: datetime) -> datetime:
        return now + self.offset()


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
    # Date fields only: "instant" (a timestamp) or "day" (a calendar date such as a membership expiry, compared by
    # UTC day, so "expiry between now and +30 days" includes a membership expiring later today).
    granularity: Literal["instant", "day"] = "instant"

    @property
    def operators(self) -> frozenset[Operator]:
        return OPERATORS_BY_TYPE[self.type]


def _f(name: str, type_: FieldType, description: str, source: str, values: list[str] | None = None,
       granularity: Literal["instant", "day"] = "instant") -> FieldSpec:
    return FieldSpec(name=name, type=type_, description=description, source=source, values=values,
                     granularity=granularity)


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
    _f("memberSince", D, "Membership start date", "identity", granularity="day"),
    _f("membershipExpiry", D, "Membership expiry date", "identity", granularity="day"),
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


def parse_date_value(v: str) -> date | datetime:
    """An absolute date value: "2024-05-01" is a calendar day, "2024-05-01T10:00:00+02:00" an instant (UTC if
    it has no offset). Raises ValueError for anything else."""
    if "T" in v or "t" in v:
        dt = datetime.fromisoformat(v)
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return date.fromisoformat(v)


def _is_date_value(v: Any) -> bool:
    if isinstance(v, RelativeDate):
        return True
    if isinstance(v, str):
        try:
            parsed = parse_date_value(v)
            if isinstance(parsed, datetime):
                parsed = parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            return False
        return MIN_YEAR <= parsed.year <= MAX_YEAR
    return False


def _text_ok(v: Any) -> bool:
    # PostgreSQL text cannot hold NUL, so such a value could never match; refuse it rather than fail later.
    return isinstance(v, str) and len(v) <= MAX_STRING and "\x00" not in v


def _value_ok(spec: FieldSpec, v: Any) -> bool:
    if spec.type is FieldType.number:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e15
    if spec.type is FieldType.boolean:
        return isinstance(v, bool)
    if spec.type is FieldType.date:
        return _is_date_value(v)
    if spec.type is FieldType.enum:
        return _text_ok(v) and (spec.values is None or v in spec.values)
    return _text_ok(v)  # string and array elements


def validate_criteria(group: Group, catalogue: dict[str, FieldSpec] | None = None, *, path: str = "",
                      depth: int = 0) -> list[CriteriaError]:
    """Every problem in `group`, each with the path of the rule at fault."""
    catalogue = catalogue if catalogue is not None else STANDARD_CATALOGUE
    errors: list[CriteriaError] = []
    if depth > MAX_DEPTH:
        return [CriteriaError(path=path.rstrip(".") or "<root>", message=f"groups nest at most {MAX_DEPTH} deep")]
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
            if not isinstance(v, list) or not v or len(v) > MAX_LIST or not all(_value_ok(spec, x) for x in v):
                errors.append(CriteriaError(
                    path=f"{p}.value",
                    message=f"{op.value} needs a list of 1 to {MAX_LIST} {spec.type.value} values"
                            + (f" from {spec.values}" if spec.type is FieldType.enum and spec.values else "")))
        elif op is Operator.between:
            if not isinstance(v, list) or len(v) != 2 or not all(_value_ok(spec, x) for x in v):
                errors.append(CriteriaError(path=f"{p}.value",
                                            message=f"between needs [low, high], two {spec.type.value} values"))
        elif spec.type is FieldType.array:
            if not _text_ok(v):
                errors.append(CriteriaError(path=f"{p}.value",
                                            message=f"{op.value} on a list field needs a string (at most "
                                                    f"{MAX_STRING} characters, no NUL)"))
        elif isinstance(v, list) or not _value_ok(spec, v):
            expected = f"one of {spec.values}" if spec.type is FieldType.enum and spec.values else spec.type.value
            errors.append(CriteriaError(path=f"{p}.value", message=f"value {v!r} is not a valid {expected}"))
    return errors


def _pydantic_errors(exc: ValidationError, path: str) -> list[CriteriaError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("RelativeDate", "list[", "bool", "int", "float",
                                                                        "str", "function-"))]
        where = loc[0] if loc else ""
        out.append(CriteriaError(path=f"{path}{where}" if where else (path.rstrip(".") or "<root>"),
                                 message=err["msg"]))
    # one message per path: a union value fails every branch, which only repeats itself
    seen: dict[str, CriteriaError] = {}
    for e in out:
        seen.setdefault(e.path, e)
    return list(seen.values())


def _value_shape(v: Any, path: str, *, in_list: bool = False) -> list[CriteriaError]:
    """A value is null, true/false, a number, a string, {"relative": ...} or a flat list of those."""
    if v is None or isinstance(v, bool | int | float | str):
        return []
    if isinstance(v, dict):
        try:
            RelativeDate.model_validate(v)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
            return [CriteriaError(path=path, message=f"{msg} (a relative date is {{\"relative\": \"-14 days\"}})")]
        return []
    if isinstance(v, list) and not in_list:
        return [e for i, x in enumerate(v) for e in _value_shape(x, f"{path}[{i}]", in_list=True)]
    return [CriteriaError(path=path, message="a value is a string, number, true/false, null, "
                                             "{\"relative\": ...} or a flat list of those")]


def _check_raw(node: Any, path: str, depth: int) -> list[CriteriaError]:
    where = path.rstrip(".") or "<root>"
    if not isinstance(node, dict):
        return [CriteriaError(path=where, message="must be a group {combinator, not, rules}" + (
            " or a rule {field, operator, value}" if depth else ""))]
    if depth > MAX_DEPTH:
        return [CriteriaError(path=where, message=f"groups nest at most {MAX_DEPTH} deep")]
    errors: list[CriteriaError] = []
    # The root is always a group; below it, an object is a group if it has a group's keys.
    is_group = depth == 0 or "rules" in node or "combinator" in node or "not" in node
    if not is_group:
        errors += _value_shape(node.get("value"), f"{path}value")
        try:
            Rule.model_validate(node)
        except ValidationError as exc:
            errors += [e for e in _pydantic_errors(exc, path) if not e.path.startswith(f"{path}value")]
        return errors
    extra = sorted(set(node) - {"combinator", "not", "rules"})
    if extra:
        errors.append(CriteriaError(path=f"{path}{extra[0]}", message="unknown key in a group"))
    if node.get("combinator", "AND") not in ("AND", "OR"):
        errors.append(CriteriaError(path=f"{path}combinator", message="combinator must be 'AND' or 'OR'"))
    if not isinstance(node.get("not", False), bool):
        errors.append(CriteriaError(path=f"{path}not", message="not must be true or false"))
    rules = node.get("rules", [])
    if not isinstance(rules, list):
        errors.append(CriteriaError(path=f"{path}rules", message="rules must be a list"))
        return errors
    if len(rules) > 100:
        errors.append(CriteriaError(path=f"{path}rules", message="a group holds at most 100 rules"))
        return errors
    for i, item in enumerate(rules):
        errors += _check_raw(item, f"{path}rules[{i}].", depth + 1)
    return errors


def check_criteria(raw: Any, catalogue: dict[str, FieldSpec] | None = None) -> tuple[Group | None, list[CriteriaError]]:
    """Parse criteria from raw JSON and validate them against `catalogue`.

    Returns (group, []) when they are good, else (None, every problem with the path of the part at fault).
    """
    errors = _check_raw(raw, "", 0)
    if errors:
        return None, errors
    try:
        group = Group.model_validate(raw)
    except ValidationError as exc:  # defensive: _check_raw mirrors the models
        return None, _pydantic_errors(exc, "")
    errors = validate_criteria(group, catalogue)
    return (None, errors) if errors else (group, [])
