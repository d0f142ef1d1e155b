"""The in-memory evaluator's semantics (the SQL compiler is held to the same ones by the agreement test)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from fairway_schemas.criteria import Group, check_criteria
from fairway_schemas.criteria_eval import InvalidCriteria, Predicate, evaluate, fields_used, time_sensitivity

NOW = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)


def crit(*rules, combinator="AND", not_=False) -> Group:
    group, errors = check_criteria({"combinator": combinator, "not": not_, "rules": list(rules)})
    assert not errors, errors
    assert group is not None
    return group


def rule(field, operator, value=None) -> dict:
    return {"field": field, "operator": operator, "value": value}


def test_relative_dates_follow_the_injected_clock() -> None:
    lapsed = crit(rule("lastBookingAt", "lt", {"relative": "-30 days"}))
    booked = {"lastBookingAt": NOW - timedelta(days=25)}
    assert not evaluate(lapsed, booked, now=NOW)
    assert not evaluate(lapsed, booked, now=NOW + timedelta(days=4, hours=23))
    assert evaluate(lapsed, booked, now=NOW + timedelta(days=5, seconds=1))
    recent_click = crit(rule("lastEmailClickAt", "gt", {"relative": "-14 days"}))
    assert evaluate(recent_click, {"lastEmailClickAt": NOW - timedelta(days=13)}, now=NOW)
    assert not evaluate(
        recent_click, {"lastEmailClickAt": NOW - timedelta(days=13)}, now=NOW + timedelta(days=2)
    )
    assert evaluate(
        crit(rule("lastActivityAt", "gte", {"relative": "now"})), {"lastActivityAt": NOW}, now=NOW
    )
    for unit, delta in [
        ("hours", timedelta(hours=3)),
        ("weeks", timedelta(weeks=3)),
        ("months", timedelta(days=90)),
        ("years", timedelta(days=365 * 3)),
        ("minutes", timedelta(minutes=3)),
    ]:
        g = crit(rule("lastActivityAt", "gte", {"relative": f"-3 {unit}"}))
        assert evaluate(g, {"lastActivityAt": NOW - delta}, now=NOW)
        assert not evaluate(g, {"lastActivityAt": NOW - delta - timedelta(seconds=1)}, now=NOW)


def test_calendar_day_fields_compare_by_utc_day() -> None:
    expiring = crit(rule("membershipExpiry", "between", [{"relative": "now"}, {"relative": "+30 days"}]))
    assert evaluate(expiring, {"membershipExpiry": date(2025, 6, 15)}, now=NOW)  # today, though it is 10:30
    assert evaluate(expiring, {"membershipExpiry": date(2025, 7, 15)}, now=NOW)
    assert not evaluate(expiring, {"membershipExpiry": date(2025, 7, 16)}, now=NOW)
    assert not evaluate(expiring, {"membershipExpiry": date(2025, 6, 14)}, now=NOW)
    # the same profile a day later (the clock moved past midnight)
    assert not evaluate(expiring, {"membershipExpiry": date(2025, 6, 15)}, now=NOW + timedelta(days=1))
    # a date-only value on a timestamp field compares the UTC day of the timestamp
    on_may_first = crit(rule("lastBookingAt", "lte", "2025-05-01"))
    assert evaluate(on_may_first, {"lastBookingAt": datetime(2025, 5, 1, 23, 59, tzinfo=UTC)}, now=NOW)
    assert not evaluate(on_may_first, {"lastBookingAt": datetime(2025, 5, 2, 0, 0, tzinfo=UTC)}, now=NOW)
    eq_day = crit(rule("lastBookingAt", "eq", "2025-05-01"))
    assert evaluate(eq_day, {"lastBookingAt": datetime(2025, 5, 1, 22, 0, tzinfo=UTC)}, now=NOW)
    # a date-time value with an offset is an instant
    instant = crit(rule("lastBookingAt", "lt", "2025-05-01T10:00:00+02:00"))
    assert evaluate(instant, {"lastBookingAt": datetime(2025, 5, 1, 7, 59, tzinfo=UTC)}, now=NOW)
    assert not evaluate(instant, {"lastBookingAt": datetime(2025, 5, 1, 8, 0, tzinfo=UTC)}, now=NOW)


def test_null_semantics_make_every_rule_true_or_false() -> None:
    nobody = {}
    assert not evaluate(crit(rule("membershipTier", "eq", "Gold")), nobody, now=NOW)
    assert evaluate(crit(rule("membershipTier", "neq", "Gold")), nobody, now=NOW)
    assert evaluate(crit(rule("membershipTier", "notIn", ["Gold"])), nobody, now=NOW)
    assert evaluate(crit(rule("membershipTier", "notContains", "old")), nobody, now=NOW)
    assert not evaluate(crit(rule("handicap", "gt", 1)), nobody, now=NOW)
    assert not evaluate(crit(rule("handicap", "lte", 1)), nobody, now=NOW)
    assert evaluate(crit(rule("handicap", "isNull")), nobody, now=NOW)
    assert evaluate(crit(rule("tags", "isNull")), {"tags": []}, now=NOW)
    assert evaluate(crit(rule("tags", "notContains", "vip")), nobody, now=NOW)
    # NOT of a rule on NULL is the plain negation
    assert evaluate(crit(rule("handicap", "gt", 1), not_=True), nobody, now=NOW)
    assert evaluate(crit(), nobody, now=NOW) and not evaluate(crit(combinator="OR"), nobody, now=NOW)


def test_strings_fold_ascii_case_and_lists_hold_elements() -> None:
    gold = {"membershipTier": "GOLD", "tags": ["VIP", "Junior"], "homeClub": "Royal Cape"}
    assert evaluate(crit(rule("membershipTier", "eq", "gold")), gold, now=NOW)
    assert evaluate(crit(rule("membershipTier", "in", ["Platinum", "Gold"])), gold, now=NOW)
    assert evaluate(crit(rule("homeClub", "contains", "cape")), gold, now=NOW)
    assert evaluate(crit(rule("tags", "contains", "vip")), gold, now=NOW)
    assert not evaluate(crit(rule("tags", "contains", "vi")), gold, now=NOW)  # elements, not substrings
    assert not evaluate(crit(rule("homeClub", "eq", "Royal Capé")), {"homeClub": "Royal Cape"}, now=NOW)
    assert not evaluate(crit(rule("homeClub", "eq", "ÉTOILE")), {"homeClub": "étoile"}, now=NOW)  # A-Z only


def test_numbers_groups_and_negation() -> None:
    g = crit(
        rule("handicap", "gte", 18),
        {"combinator": "OR", "rules": [rule("engagementScore", "gte", 70), rule("emailOptIn", "eq", True)]},
    )
    assert evaluate(g, {"handicap": 18.0, "engagementScore": 70}, now=NOW)
    assert evaluate(g, {"handicap": 24, "emailOptIn": True}, now=NOW)
    assert not evaluate(g, {"handicap": 24, "emailOptIn": False, "engagementScore": 69.9}, now=NOW)
    assert evaluate(crit(rule("bookingCount30d", "between", [2, 4])), {"bookingCount30d": 4}, now=NOW)
    assert not evaluate(crit(rule("bookingCount30d", "between", [4, 2])), {"bookingCount30d": 3}, now=NOW)
    assert evaluate(crit(rule("emailOptIn", "neq", True)), {"emailOptIn": False}, now=NOW)


def test_predicate_reuse_helpers_and_refusal() -> None:
    g = crit(
        rule("lastBookingAt", "lt", {"relative": "-30 days"}),
        rule("memberSince", "lt", {"relative": "-1 year"}),
    )
    pred = Predicate(g)
    assert pred({"lastBookingAt": NOW - timedelta(days=31), "memberSince": date(2020, 1, 1)}, NOW)
    assert fields_used(g) == {"lastBookingAt", "memberSince"}
    assert time_sensitivity(g) == "instant"
    assert time_sensitivity(crit(rule("memberSince", "lt", {"relative": "-1 year"}))) == "day"
    assert time_sensitivity(crit(rule("memberSince", "lt", "2020-01-01"))) is None
    bad = Group.model_validate({"rules": [{"field": "nope", "operator": "eq", "value": 1}]})
    with pytest.raises(InvalidCriteria, match="rules\\[0\\].field"):
        evaluate(bad, {}, now=NOW)
