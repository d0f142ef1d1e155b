import pytest
from aigw_spec_examples import SPEC_EXAMPLES

from fairway_ai_gateway.operations.rule_parser import RuleParser
from fairway_schemas.criteria import STANDARD_CATALOGUE, validate_criteria

# Section 3.3, and the example of section 3.1.
EXAMPLES = {
    **SPEC_EXAMPLES,
    "Find members who played at least twice last month but haven't opened any emails in the past 2 weeks": [
        {"field": "bookingCount30d", "operator": "gte", "value": 2},
        {"field": "lastEmailOpenAt", "operator": "lt", "value": {"relative": "-14 days"}},
    ],
}


@pytest.mark.parametrize("query", list(EXAMPLES))
def test_the_spec_examples_map_to_the_spec_rules(query: str) -> None:
    parsed = RuleParser(STANDARD_CATALOGUE).parse(query)
    criteria = parsed.criteria.dump()
    assert criteria["combinator"] == "AND"
    assert criteria["rules"] == EXAMPLES[query]
    assert validate_criteria(parsed.criteria) == []
    assert parsed.interpretation.startswith("Profiles ")


def test_assumptions_are_listed() -> None:
    parsed = RuleParser(STANDARD_CATALOGUE).parse("Inactive premium members")
    assert any("Premium" in a for a in parsed.assumptions)
    assert any("inactive" in a for a in parsed.assumptions)


def test_other_phrasings() -> None:
    p = RuleParser(STANDARD_CATALOGUE)
    rules = p.parse("Silver or Gold members at risk with a handicap under 10").criteria.dump()["rules"]
    assert rules == [
        {"field": "membershipTier", "operator": "in", "value": ["Silver", "Gold"]},
        {"field": "churnRiskScore", "operator": "gte", "value": 70},
        {"field": "handicap", "operator": "lt", "value": 10.0},
    ]
    rules = p.parse("booked more than 5 times in the last 3 months").criteria.dump()["rules"]
    assert rules == [{"field": "bookingCount90d", "operator": "gt", "value": 5}]
    rules = p.parse("new members tagged junior").criteria.dump()["rules"]
    assert rules == [
        {"field": "memberSince", "operator": "gt", "value": {"relative": "-90 days"}},
        {"field": "tags", "operator": "contains", "value": "junior"},
    ]


def test_an_or_between_conditions_is_understood_and_nonsense_gives_no_rules() -> None:
    p = RuleParser(STANDARD_CATALOGUE)
    either = p.parse("Gold members at risk or inactive")
    assert not either.partial
    assert either.criteria.dump()["rules"] == [
        {"field": "membershipTier", "operator": "eq", "value": "Gold"},
        {"combinator": "OR", "not": False, "rules": [
            {"field": "churnRiskScore", "operator": "gte", "value": 70},
            {"field": "activityCount30d", "operator": "eq", "value": 0}]}]
    nothing = p.parse("the quick brown fox")
    assert nothing.criteria.rules == [] and nothing.warnings and nothing.partial
    assert "did not recognise" in nothing.interpretation


def test_fields_missing_from_the_catalogue_are_left_out_with_a_warning() -> None:
    catalogue = {k: v for k, v in STANDARD_CATALOGUE.items() if k != "lastBookingAt"}
    parsed = RuleParser(catalogue).parse("Gold members who haven't played in 30 days")
    assert [r.field for r in parsed.criteria.rules] == ["membershipTier"]
    assert any("lastBookingAt" in w for w in parsed.warnings)
