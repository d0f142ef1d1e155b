"""In-memory evaluation of segment criteria for one profile (incremental membership, journey conditions).

`criteria_sql` compiles the same criteria to SQL for whole tables; the two must agree on every profile, so the
semantics are fixed here, once:

- A profile is a mapping of catalogue field name -> value (missing key = NULL).
- NULL: `isNull` is true, `isNotNull` false; every positive operator (eq, gt, gte, lt, lte, in, contains,
  between) is false; every negative operator (neq, notIn, notContains) is true ("not Gold" includes people with
  no tier). So each rule is plainly true or false, and a group's `not` is an ordinary negation.
- Strings and enums compare case-insensitively, folding A-Z only (not locale rules, which differ between
  PostgreSQL builds and Python; "Étoile" and "étoile" differ); `contains` on a string is a substring test.
- Lists (tags): `contains` is membership of an element, case-insensitively; `isNull` means no elements.
- Numbers compare as IEEE doubles, as PostgreSQL's float8 does.
- Dates: relative values resolve against `now`. On a "day" field (memberSince, membershipExpiry) every value
  becomes a UTC calendar day. On an "instant" field a relative or date-time value is an instant, while a
  date-only value ("2024-05-01") compares with the UTC day of the field ("lastBookingAt lte 2024-05-01" includes
  the whole of May 1st). `between [low, high]` is inclusive at both ends.
- Groups: AND of no rules is true, OR of no rules is false.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from fairway_schemas.criteria import (
    STANDARD_CATALOGUE,
    FieldSpec,
    FieldType,
    Group,
    Operator,
    RelativeDate,
    Rule,
    parse_date_value,
    validate_criteria,
)

ASCII_UPPER = string.ascii_uppercase
ASCII_LOWER = string.ascii_lowercase
_FOLD = str.maketrans(ASCII_UPPER, ASCII_LOWER)

NEGATION_OF: dict[Operator, Operator] = {
    Operator.neq: Operator.eq,
    Operator.notIn: Operator.in_,
    Operator.notContains: Operator.contains,
}

DateKind = Literal["day", "instant"]


class InvalidCriteria(ValueError):
    """Criteria that do not fit the catalogue; `errors` holds every problem with its path."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


def fold(s: str) -> str:
    return s.translate(_FOLD)


def as_utc(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def utc_day(dt: datetime) -> date:
    return as_utc(dt).astimezone(UTC).date()


def resolve_date(spec: FieldSpec, value: Any, now: datetime) -> tuple[DateKind, date | datetime]:
    """A date rule value as ("day", date) or ("instant", aware datetime), per the field's granularity."""
    if isinstance(value, RelativeDate):
        at = value.resolve(as_utc(now))
        return ("day", utc_day(at)) if spec.granularity == "day" else ("instant", at)
    parsed = parse_date_value(value)
    if isinstance(parsed, datetime):
        return ("day", utc_day(parsed)) if spec.granularity == "day" else ("instant", parsed)
    return "day", parsed


def walk_rules(group: Group) -> Iterator[Rule]:
    for item in group.rules:
        if isinstance(item, Group):
            yield from walk_rules(item)
        else:
            yield item


def fields_used(group: Group) -> set[str]:
    return {r.field for r in walk_rules(group)}


def time_sensitivity(group: Group, catalogue: Mapping[str, FieldSpec] | None = None) -> DateKind | None:
    """How often membership can change by time passing alone: "instant" (any moment), "day" (at UTC midnight)
    or None (never: no relative dates)."""
    cat = catalogue if catalogue is not None else STANDARD_CATALOGUE
    finest: DateKind | None = None
    for rule in walk_rules(group):
        values = rule.value if isinstance(rule.value, list) else [rule.value]
        if any(isinstance(v, RelativeDate) for v in values):
            spec = cat.get(rule.field)
            if spec is not None and spec.granularity == "day" and finest is None:
                finest = "day"
            elif spec is not None and spec.granularity != "day":
                return "instant"
    return finest


# -- profile values ---------------------------------------------------------------------------------------
def _profile_value(spec: FieldSpec, x: Any) -> Any:
    """The profile's value in the evaluator's terms; anything of the wrong type counts as NULL."""
    if x is None:
        return None
    t = spec.type
    if t is FieldType.number:
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None
    if t is FieldType.boolean:
        return x if isinstance(x, bool) else None
    if t is FieldType.array:
        return (
            [fold(e) for e in x if isinstance(e, str)]
            if isinstance(x, list | tuple | set | frozenset)
            else None
        )
    if t is FieldType.date:
        if isinstance(x, str):
            try:
                x = parse_date_value(x)
            except ValueError:
                return None
        if spec.granularity == "day":
            if isinstance(x, datetime):
                return utc_day(x)
            return x if isinstance(x, date) else None
        if isinstance(x, datetime):
            return as_utc(x)
        if isinstance(x, date):
            return datetime.combine(x, time(0), tzinfo=UTC)
        return None
    return fold(x) if isinstance(x, str) else None  # string, enum


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


class _Evaluator:
    def __init__(self, catalogue: Mapping[str, FieldSpec], now: datetime) -> None:
        self.catalogue = catalogue
        self.now = as_utc(now)

    def group(self, g: Group, profile: Mapping[str, Any]) -> bool:
        results = (self.group(i, profile) if isinstance(i, Group) else self.rule(i, profile) for i in g.rules)
        value = all(results) if g.combinator == "AND" else any(results)
        return not value if g.not_ else value

    def rule(self, r: Rule, profile: Mapping[str, Any]) -> bool:
        spec = self.catalogue[r.field]
        x = _profile_value(spec, profile.get(r.field))
        op = r.operator
        if spec.type is FieldType.array:
            x = x or []
            if op is Operator.isNull:
                return not x
            if op is Operator.isNotNull:
                return bool(x)
            hit = fold(str(r.value)) in x
            return hit if op is Operator.contains else not hit
        if op is Operator.isNull:
            return x is None
        if op is Operator.isNotNull:
            return x is not None
        if op in NEGATION_OF:
            return not self.positive(spec, NEGATION_OF[op], x, r.value)
        return self.positive(spec, op, x, r.value)

    def positive(self, spec: FieldSpec, op: Operator, x: Any, v: Any) -> bool:
        if x is None:
            return False
        if op is Operator.in_:
            return any(self.compare(spec, x, item) == 0 for item in v)
        if op is Operator.between:
            return self.compare(spec, x, v[0]) >= 0 and self.compare(spec, x, v[1]) <= 0
        if op is Operator.contains:
            return fold(v) in x
        c = self.compare(spec, x, v)
        return {
            Operator.eq: c == 0,
            Operator.gt: c > 0,
            Operator.gte: c >= 0,
            Operator.lt: c < 0,
            Operator.lte: c <= 0,
        }[op]

    def compare(self, spec: FieldSpec, x: Any, v: Any) -> int:
        t = spec.type
        if t is FieldType.number:
            return _cmp(x, float(v))
        if t is FieldType.boolean:
            return 0 if x is v else 1  # only eq/neq are valid on booleans
        if t is FieldType.date:
            kind, bound = resolve_date(spec, v, self.now)
            if kind == "day" and isinstance(x, datetime):
                return _cmp(utc_day(x), bound)
            return _cmp(x, bound)
        return _cmp(x, fold(v))


def evaluate(
    criteria: Group,
    profile: Mapping[str, Any],
    *,
    now: datetime,
    catalogue: Mapping[str, FieldSpec] | None = None,
    validate: bool = True,
) -> bool:
    """Does `profile` match `criteria` at time `now`? Raises InvalidCriteria for criteria the catalogue refuses."""
    cat = catalogue if catalogue is not None else STANDARD_CATALOGUE
    if validate:
        errors = validate_criteria(criteria, dict(cat))
        if errors:
            raise InvalidCriteria(errors)
    return _Evaluator(cat, now).group(criteria, profile)


class Predicate:
    """Criteria checked once, then evaluated against many profiles (the incremental path)."""

    def __init__(self, criteria: Group, catalogue: Mapping[str, FieldSpec] | None = None) -> None:
        self.criteria = criteria
        self.catalogue = catalogue if catalogue is not None else STANDARD_CATALOGUE
        errors = validate_criteria(criteria, dict(self.catalogue))
        if errors:
            raise InvalidCriteria(errors)

    def __call__(self, profile: Mapping[str, Any], now: datetime) -> bool:
        return _Evaluator(self.catalogue, now).group(self.criteria, profile)
