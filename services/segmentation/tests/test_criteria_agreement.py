"""The two evaluators must agree: random criteria and random profiles, the in-memory evaluator against the SQL
compiled by criteria_sql running on the service's real read-model table (PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from fairway_schemas.criteria import FieldType, Group, Operator, check_criteria
from fairway_schemas.criteria_eval import evaluate
from fairway_schemas.criteria_sql import compile_criteria
from fairway_segmentation.db import profiles
from fairway_segmentation.readmodel.fields import CATALOGUE, COLUMNS, FIELD_COLUMNS

BASE = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)
COUNTERS = {f for f, c in FIELD_COLUMNS.items() if c.endswith(("_30d", "_90d"))}
TEXTS = [
    "Gold",
    "gold",
    "GOLD",
    "Silver",
    "Platinum",
    "",
    "Royal Cape",
    "royal",
    "Étoile",
    "étoile",
    "a%b",
    "_",
    "ß",
    "İ",
    "ǅ",
    "Σς",
]
TAGS = ["vip", "VIP", "junior", "Senior", "a b", "ß"]
NUMBERS = [0, 1, 2, 17.5, 18, 18.000001, 69.9, 70, 100, -0.0, 0.1 + 0.2, 0.3, 1e15 - 1, 2**49 + 1]
REL = [
    "-30 days",
    "-14 days",
    "+30 days",
    "now",
    "-1 year",
    "-2 hours",
    "+0 days",
    "-90 minutes",
    "-3 weeks",
    "+1 month",
]
OFFSETS = [timedelta(days=d) for d in (-400, -365, -30, -14, -1, 0, 1, 14, 30, 400)]
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]

text_value = st.one_of(
    st.sampled_from(TEXTS),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=6),
)
number_value = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-50, 50),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def instant(draw: Any) -> datetime:
    base = BASE + draw(st.sampled_from(OFFSETS))
    jitter = draw(
        st.one_of(
            st.just(timedelta(0)),
            st.integers(-86400, 86400).map(lambda s: timedelta(seconds=s)),
            st.integers(-(10**6), 10**6).map(lambda us: timedelta(microseconds=us)),
        )
    )
    return (base + jitter).astimezone(draw(st.sampled_from(ZONES)))


calendar_day = st.builds(
    lambda o, d: (BASE + o).date() + timedelta(days=d), st.sampled_from(OFFSETS), st.integers(-2, 2)
)


def profile_value(name: str) -> st.SearchStrategy[Any]:
    spec = CATALOGUE[name]
    t = spec.type
    if name in COUNTERS:
        return st.integers(0, 60)  # NOT NULL in the read model
    if name == "lifetimeValue":
        return st.one_of(
            st.none(), st.integers(-(10**12), 10**12), st.sampled_from([0, 18, 70, 2**53 + 1, 2**62])
        )
    if t is FieldType.number:
        return st.one_of(st.none(), number_value)
    if t is FieldType.boolean:
        return st.one_of(st.none(), st.booleans())
    if t is FieldType.enum:
        return st.one_of(st.none(), st.sampled_from([*(spec.values or []), "active", ""]))
    if t is FieldType.array:
        return st.lists(st.one_of(st.sampled_from(TAGS), text_value), max_size=3)
    if t is FieldType.date:
        return (
            st.one_of(st.none(), calendar_day)
            if spec.granularity == "day"
            else st.one_of(st.none(), instant())
        )
    return st.one_of(st.none(), text_value)


profile = st.fixed_dictionaries({f: profile_value(f) for f in CATALOGUE})


@st.composite
def date_value(draw: Any) -> Any:
    kind = draw(st.sampled_from(["relative", "day", "instant"]))
    if kind == "relative":
        return {"relative": draw(st.sampled_from(REL))}
    if kind == "day":
        return draw(calendar_day).isoformat()
    return draw(instant()).isoformat()


def scalar(name: str) -> st.SearchStrategy[Any]:
    spec = CATALOGUE[name]
    t = spec.type
    if t is FieldType.number:
        return number_value
    if t is FieldType.boolean:
        return st.booleans()
    if t is FieldType.enum:
        return st.sampled_from(spec.values or ["x"])
    if t is FieldType.date:
        return date_value()
    if t is FieldType.array:
        return st.one_of(st.sampled_from(TAGS), text_value)
    return text_value


@st.composite
def a_rule(draw: Any) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(CATALOGUE)))
    op = draw(st.sampled_from(sorted(CATALOGUE[name].operators, key=lambda o: o.value)))
    if op in (Operator.isNull, Operator.isNotNull):
        value = None
    elif op in (Operator.in_, Operator.notIn):
        value = draw(st.lists(scalar(name), min_size=1, max_size=4))
    elif op is Operator.between:
        value = [draw(scalar(name)), draw(scalar(name))]
    else:
        value = draw(scalar(name))
    return {"field": name, "operator": op.value, "value": value}


criteria = st.recursive(
    st.builds(lambda r: {"combinator": "AND", "rules": [r]}, a_rule()),
    lambda inner: st.builds(
        lambda c, n, rules: {"combinator": c, "not": n, "rules": rules},
        st.sampled_from(["AND", "OR"]),
        st.booleans(),
        st.lists(st.one_of(a_rule(), inner), max_size=4),
    ),
    max_leaves=8,
)


def to_row(p: dict[str, Any]) -> dict[str, Any]:
    return {FIELD_COLUMNS[f]: v for f, v in p.items()}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    raw=criteria,
    people=st.lists(profile, min_size=1, max_size=8),
    now_shift=st.integers(-2 * 86400, 2 * 86400),
)
async def test_sql_and_memory_evaluators_agree(
    engine: AsyncEngine, raw: dict, people: list[dict], now_shift: int
) -> None:
    group, errors = check_criteria(raw, CATALOGUE)
    assert group is not None, errors  # the strategies only build valid criteria
    now = BASE + timedelta(seconds=now_shift)
    tenant = f"t{uuid.uuid4().hex[:10]}"
    async with engine.begin() as conn:
        for i, p in enumerate(people):
            await conn.execute(profiles.insert().values(tenant_id=tenant, profile_id=f"p{i}", **to_row(p)))
        where = compile_criteria(group, COLUMNS, now=now, catalogue=CATALOGUE)
        in_sql = set(
            (
                await conn.execute(select(profiles.c.profile_id).where(profiles.c.tenant_id == tenant, where))
            ).scalars()
        )
        await conn.rollback()
    in_memory = {f"p{i}" for i, p in enumerate(people) if evaluate(group, p, now=now, catalogue=CATALOGUE)}
    assert in_sql == in_memory, {"criteria": group.dump(), "now": now.isoformat()}


def test_every_catalogue_field_has_a_read_model_column() -> None:
    assert set(FIELD_COLUMNS) == set(CATALOGUE)
    assert all(c in profiles.c for c in FIELD_COLUMNS.values())


async def test_known_corners_agree(engine: AsyncEngine) -> None:
    """Cases the property test found or that are easy to get wrong, kept as examples."""
    people = [
        {
            "membershipTier": None,
            "tags": [],
            "handicap": None,
            "lastBookingAt": None,
            "membershipExpiry": None,
        },
        {
            "membershipTier": "GOLD",
            "tags": ["VIP"],
            "handicap": 18.0,
            "lastBookingAt": BASE - timedelta(days=30),
            "membershipExpiry": date(2025, 6, 15),
        },
        {
            "membershipTier": "Σς",
            "tags": ["ß"],
            "handicap": -0.0,
            "lastBookingAt": BASE.astimezone(ZONES[2]),
            "membershipExpiry": date(2025, 7, 15),
            "homeClub": "Étoile",
        },
    ]
    cases: list[dict[str, Any]] = [
        {"rules": [{"field": "membershipTier", "operator": "neq", "value": "gold"}]},
        {"not": True, "rules": [{"field": "handicap", "operator": "gt", "value": 0}]},
        {"rules": [{"field": "handicap", "operator": "eq", "value": 0}]},
        {"rules": [{"field": "tags", "operator": "notContains", "value": "vip"}]},
        {"rules": [{"field": "tags", "operator": "isNull", "value": None}]},
        {"rules": [{"field": "membershipTier", "operator": "contains", "value": ""}]},
        {"rules": [{"field": "membershipTier", "operator": "eq", "value": "σς"}]},
        {"rules": [{"field": "lastBookingAt", "operator": "lte", "value": {"relative": "-30 days"}}]},
        {"rules": [{"field": "lastBookingAt", "operator": "eq", "value": BASE.date().isoformat()}]},
        {
            "rules": [
                {
                    "field": "membershipExpiry",
                    "operator": "between",
                    "value": [{"relative": "now"}, {"relative": "+30 days"}],
                }
            ]
        },
        {"rules": [{"field": "homeClub", "operator": "contains", "value": "étoile"}]},
        {"rules": [{"field": "homeClub", "operator": "contains", "value": "ÉTOILE"}]},
        {"combinator": "OR", "rules": []},
    ]
    tenant = "corners"
    async with engine.begin() as conn:
        for i, p in enumerate(people):
            await conn.execute(profiles.insert().values(tenant_id=tenant, profile_id=f"p{i}", **to_row(p)))
        for raw in cases:
            group = Group.model_validate(raw)
            where = compile_criteria(group, COLUMNS, now=BASE, catalogue=CATALOGUE)
            in_sql = set(
                (
                    await conn.execute(
                        select(profiles.c.profile_id).where(profiles.c.tenant_id == tenant, where)
                    )
                ).scalars()
            )
            in_memory = {f"p{i}" for i, p in enumerate(people) if evaluate(group, p, now=BASE)}
            assert in_sql == in_memory, raw
        await conn.rollback()
