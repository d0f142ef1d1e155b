"""Segment criteria compiled to a SQLAlchemy Core boolean expression, for whole-table evaluation.

The semantics are those written down in `criteria_eval`, which must agree with this module on every profile.
PostgreSQL only (collations, arrays, timezone()).
Field names only ever select a column from the caller's mapping (an unknown field is refused, never rendered),
and every value travels as a bound parameter.

    where = compile_criteria(group, {"membershipTier": profiles.c.membership_tier, ...}, now=clock())
    select(profiles.c.profile_id).where(profiles.c.tenant_id == tenant, where)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Double,
    Text,
    and_,
    any_,
    cast,
    collate,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from fairway_schemas.criteria import (
    STANDARD_CATALOGUE,
    FieldSpec,
    FieldType,
    Group,
    Operator,
    Rule,
    validate_criteria,
)
from fairway_schemas.criteria_eval import (
    NEGATION_OF,
    InvalidCriteria,
    as_utc,
    fold,
    resolve_date,
)

Columns = Mapping[str, ColumnElement[Any]]


def sql_fold(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """A-Z folded to a-z, as `criteria_eval.fold` does. Under the "C" collation PostgreSQL's lower() maps A-Z
    only, whatever the database's locale (and is several times faster than translate())."""
    return func.lower(collate(expr, "C"))


def sql_fold_array(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """Every element folded: the array's text form folded and read back. Quoting and escapes hold no A-Z, and an
    unquoted NULL marker reads back as NULL in any case, so this is exactly element-wise folding."""
    return cast(func.lower(collate(cast(expr, Text), "C")), ARRAY(Text))


def _positive(expr: ColumnElement[Any]) -> ColumnElement[bool]:
    # NULL-safe: a positive test on NULL is false, never unknown, so NOT and OR behave as in Python.
    return func.coalesce(expr, false())


class _Compiler:
    def __init__(self, columns: Columns, catalogue: Mapping[str, FieldSpec], now: datetime) -> None:
        self.columns = columns
        self.catalogue = catalogue
        self.now = as_utc(now)

    def group(self, g: Group) -> ColumnElement[bool]:
        parts = [self.group(i) if isinstance(i, Group) else self.rule(i) for i in g.rules]
        if g.combinator == "AND":
            expr = and_(true(), *parts) if parts else true()
        else:
            expr = or_(false(), *parts) if parts else false()
        return not_(expr) if g.not_ else expr

    def column(self, field: str) -> ColumnElement[Any]:
        try:
            return self.columns[field]
        except KeyError:
            raise InvalidCriteria([_Err(field)]) from None

    def rule(self, r: Rule) -> ColumnElement[bool]:
        spec = self.catalogue[r.field]
        col = self.column(r.field)
        op = r.operator
        if spec.type is FieldType.array:
            if op in (Operator.isNull, Operator.isNotNull):
                empty = func.coalesce(func.cardinality(col), 0) == 0
                return empty if op is Operator.isNull else not_(empty)
            hit = _positive(literal(fold(str(r.value)), Text) == any_(sql_fold_array(col)))
            return hit if op is Operator.contains else not_(hit)
        if op is Operator.isNull:
            return col.is_(None)
        if op is Operator.isNotNull:
            return col.is_not(None)
        if op in NEGATION_OF:
            return not_(_positive(self.positive(spec, NEGATION_OF[op], col, r.value)))
        return _positive(self.positive(spec, op, col, r.value))

    def positive(self, spec: FieldSpec, op: Operator, col: ColumnElement[Any], v: Any) -> ColumnElement[bool]:
        if op is Operator.in_:
            return or_(*[self.compare(spec, col, Operator.eq, item) for item in v])
        if op is Operator.between:
            return and_(
                self.compare(spec, col, Operator.gte, v[0]), self.compare(spec, col, Operator.lte, v[1])
            )
        if op is Operator.contains:
            return func.strpos(sql_fold(col), literal(fold(v), Text)) > 0
        return self.compare(spec, col, op, v)

    def compare(self, spec: FieldSpec, col: ColumnElement[Any], op: Operator, v: Any) -> ColumnElement[bool]:
        t = spec.type
        left: ColumnElement[Any]
        right: ColumnElement[Any]
        if t is FieldType.number:
            left, right = col, literal(float(v), Double())
        elif t is FieldType.boolean:
            left, right = col, literal(bool(v), Boolean())
        elif t is FieldType.date:
            kind, bound = resolve_date(spec, v, self.now)
            if kind == "day":
                left = (
                    col if spec.granularity == "day" else cast(func.timezone(literal("UTC", Text), col), Date)
                )
                assert isinstance(bound, date)
                right = literal(bound, Date())
            else:
                assert isinstance(bound, datetime)
                left, right = col, literal(bound.astimezone(UTC), DateTime(timezone=True))
        else:  # string, enum
            left, right = sql_fold(col), literal(fold(v), Text)
        return {
            Operator.eq: left == right,
            Operator.gt: left > right,
            Operator.gte: left >= right,
            Operator.lt: left < right,
            Operator.lte: left <= right,
        }[op]


class _Err:
    def __init__(self, field: str) -> None:
        self.path = "<columns>"
        self.message = f"field {field!r} has no column in this table"


def compile_criteria(
    criteria: Group, columns: Columns, *, now: datetime, catalogue: Mapping[str, FieldSpec] | None = None
) -> ColumnElement[bool]:
    """A WHERE expression true exactly for the rows whose profile matches `criteria` at time `now`.

    Raises InvalidCriteria when the criteria do not fit the catalogue or a field has no column.
    """
    cat = catalogue if catalogue is not None else STANDARD_CATALOGUE
    errors = validate_criteria(criteria, dict(cat))
    if errors:
        raise InvalidCriteria(errors)
    return _Compiler(columns, cat, now).group(criteria)
