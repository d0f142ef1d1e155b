"""The fallback segment parser: scored on the corpus by the members each answer selects, and never silent."""

import pytest

from fairway_ai_gateway.segment_parser.corpus import CASES, HELD_OUT
from fairway_ai_gateway.segment_parser.evaluation import evaluate, members, synthetic_club
from fairway_ai_gateway.segment_parser.lexicon import normalise, quantity, window_days
from fairway_ai_gateway.segment_parser.parser import RuleParser
from fairway_schemas.criteria import STANDARD_CATALOGUE, Group, Operator, validate_criteria

PARSER = RuleParser(STANDARD_CATALOGUE)


def test_corpus_covers_every_field_and_operator() -> None:
    fields, operators = set(), set()

    def walk(node: dict) -> None:
        for r in node.get("rules", []):
            if "rules" in r:
                walk(r)
            else:
                fields.add(r["field"])
                operators.add(r["operator"])

    for case in CASES + HELD_OUT:
        walk(case.expected)
    assert len(CASES + HELD_OUT) >= 150
    assert fields == set(STANDARD_CATALOGUE)
    assert operators == {o.value for o in Operator}


def test_score_on_the_corpus_and_no_silent_miss() -> None:
    score = evaluate()
    assert not score.silent, [o.case.query for o in score.silent]
    assert score.exact >= 0.9


def test_the_scoring_can_fail() -> None:
    # Criteria that differ select different members on the synthetic club, so a wrong answer is caught.
    club = synthetic_club(500)
    a = Group.model_validate({"rules": [{"field": "handicap", "operator": "lt", "value": 10}]})
    b = Group.model_validate({"rules": [{"field": "handicap", "operator": "lte", "value": 9}]})
    assert members(a, club) != members(b, club)


def test_clauses_are_never_dropped_silently() -> None:
    parsed = PARSER.parse("Gold members with a handicap under 12 who prefer the back nine")
    assert parsed.partial and parsed.unparsed == ["'prefer'", "'back 9'"]
    assert [r.field for r in parsed.criteria.rules] == ["membershipTier", "handicap"]
    assert "Not understood" in parsed.interpretation


def test_a_window_no_field_counts_is_reported_not_replaced() -> None:
    parsed = PARSER.parse("Silver members with more than 3 rounds in the last 60 days")
    assert parsed.partial
    assert [r.field for r in parsed.criteria.rules] == ["membershipTier"]
    assert "60 days" in parsed.unparsed[0] and "30 and 90" in parsed.unparsed[0]


def test_nothing_understood_is_not_an_answer() -> None:
    parsed = PARSER.parse("members who enjoy the halfway house")
    assert parsed.partial and parsed.criteria.rules == []
    assert any("not an answer" in w for w in parsed.warnings)


def test_numbers_typed_are_kept() -> None:
    assert PARSER.parse("churn risk above 85").criteria.dump()["rules"] == [
        {"field": "churnRiskScore", "operator": "gt", "value": 85}]
    assert PARSER.parse("members who have not played in 1 week").criteria.dump()["rules"] == [
        {"field": "lastBookingAt", "operator": "lt", "value": {"relative": "-7 days"}}]


def test_or_and_not_group_as_a_reader_expects() -> None:
    parsed = PARSER.parse("Gold members who are at risk or have not played in 30 days")
    assert parsed.criteria.dump() == {"combinator": "AND", "not": False, "rules": [
        {"field": "membershipTier", "operator": "eq", "value": "Gold"},
        {"combinator": "OR", "not": False, "rules": [
            {"field": "churnRiskScore", "operator": "gte", "value": 70},
            {"field": "lastBookingAt", "operator": "lt", "value": {"relative": "-30 days"}}]}]}
    assert PARSER.parse("members not in gold or platinum").criteria.dump()["rules"] == [
        {"field": "membershipTier", "operator": "notIn", "value": ["Gold", "Platinum"]}]


def test_reading_says_what_the_criteria_mean() -> None:
    parsed = PARSER.parse("Silver or Bronze members with a handicap over 20")
    assert parsed.reading == ("Members whose membership tier is Silver or Bronze and whose handicap is over 20")
    assert validate_criteria(parsed.criteria) == []


def test_missing_catalogue_field_is_reported() -> None:
    catalogue = {k: v for k, v in STANDARD_CATALOGUE.items() if k != "handicap"}
    parsed = RuleParser(catalogue).parse("Gold members with a handicap under 10")
    assert parsed.partial and any("handicap" in u for u in parsed.unparsed)
    assert any("handicap" in w for w in parsed.warnings)


@pytest.mark.parametrize(("text", "expected"), [
    ("at least 3", (Operator.gte, 3)), ("3 or more", (Operator.gte, 3)), ("no more than 5", (Operator.lte, 5)),
    ("between 20 and 10", (Operator.between, [10, 20])), ("under 4.5", (Operator.lt, 4.5)), ("7", (Operator.eq, 7)),
])
def test_quantities(text: str, expected: tuple) -> None:
    assert quantity(text) == expected


def test_windows_and_normalisation() -> None:
    assert window_days("in the last 3 months") == (90, None)
    assert window_days("last month") == (30, None)
    assert window_days("recently")[0] == 30
    assert normalise("Haven't played 3+ times in a fortnight") == " have not played 3 or more times in 14 days "
