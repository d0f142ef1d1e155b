"""Every kind of validation error, each naming the path of the part at fault."""

import pytest

from fairway_schemas.criteria import check_criteria


def errors_of(raw) -> dict[str, str]:
    group, errors = check_criteria(raw)
    assert group is None
    return {e.path: e.message for e in errors}


def r(field, operator, value=None) -> dict:
    return {"field": field, "operator": operator, "value": value}


@pytest.mark.parametrize(
    "raw, path, words",
    [
        ({"rules": [r("shoeSize", "eq", 9)]}, "rules[0].field", "unknown field 'shoeSize'"),
        ({"rules": [r("handicap", "contains", "1")]}, "rules[0].operator", "not valid for number"),
        ({"rules": [r("tags", "gt", "a")]}, "rules[0].operator", "not valid for array"),
        ({"rules": [r("emailOptIn", "gt", True)]}, "rules[0].operator", "not valid for boolean"),
        (
            {"rules": [r("membershipTier", "between", ["a", "b"])]},
            "rules[0].operator",
            "not valid for string",
        ),
        ({"rules": [r("handicap", "eq", "18")]}, "rules[0].value", "not a valid number"),
        ({"rules": [r("handicap", "eq", True)]}, "rules[0].value", "not a valid number"),
        ({"rules": [r("handicap", "eq", float("nan"))]}, "rules[0].value", "not a valid number"),
        ({"rules": [r("emailOptIn", "eq", "yes")]}, "rules[0].value", "not a valid boolean"),
        ({"rules": [r("status", "eq", "GONE")]}, "rules[0].value", "one of ['ACTIVE'"),
        ({"rules": [r("lastBookingAt", "lt", "last tuesday")]}, "rules[0].value", "not a valid date"),
        ({"rules": [r("lastBookingAt", "lt", "0024-01-01")]}, "rules[0].value", "not a valid date"),
        (
            {"rules": [r("lastBookingAt", "lt", {"relative": "-3 fortnights"})]},
            "rules[0].value",
            "relative date",
        ),
        (
            {"rules": [r("lastBookingAt", "lt", {"relative": "-500 years"})]},
            "rules[0].value",
            "within 100 years",
        ),
        ({"rules": [r("handicap", "in", [])]}, "rules[0].value", "list of 1 to"),
        ({"rules": [r("handicap", "in", 3)]}, "rules[0].value", "list of 1 to"),
        ({"rules": [r("handicap", "between", [1])]}, "rules[0].value", "between needs [low, high]"),
        ({"rules": [r("handicap", "isNull", 3)]}, "rules[0].value", "takes no value"),
        ({"rules": [r("tags", "contains", ["vip"])]}, "rules[0].value", "needs a string"),
        ({"rules": [r("homeClub", "eq", "a\x00b")]}, "rules[0].value", "not a valid string"),
        ({"rules": [r("homeClub", "eq", "x" * 501)]}, "rules[0].value", "not a valid string"),
        ({"rules": [r("handicap", "sortOf", 3)]}, "rules[0].operator", "Input should be"),
        (
            {"rules": [{"field": "handicap", "operator": "eq", "value": 1, "weight": 2}]},
            "rules[0].weight",
            "Extra",
        ),
        ({"rules": [{"operator": "eq", "value": 1}]}, "rules[0].field", "required"),
        ({"rules": [r("handicap", "eq", {"relative": "-1 day", "x": 1})]}, "rules[0].value", ""),
        ({"combinator": "XOR", "rules": []}, "combinator", "'AND' or 'OR'"),
        ({"not": "yes", "rules": []}, "not", "true or false"),
        ({"rules": "everyone"}, "rules", "must be a list"),
        ({"rules": [7]}, "rules[0]", "must be a group"),
        ({"rules": [r("handicap", "eq", 1)] * 101}, "rules", "at most 100"),
        ({"rules": [], "limit": 3}, "limit", "unknown key"),
        ("everyone", "<root>", "must be a group"),
        ({"field": "handicap", "operator": "eq", "value": 1}, "field", "unknown key in a group"),
    ],
)
def test_each_error_names_its_path(raw, path, words) -> None:
    errors = errors_of(raw)
    assert path in errors, errors
    assert words in errors[path]


def test_nested_paths_depth_limit_and_every_problem_at_once() -> None:
    raw = {
        "rules": [
            r("handicap", "gte", 18),
            {
                "combinator": "OR",
                "rules": [r("engagementScore", "gte", "high"), {"rules": [r("nope", "eq", 1)]}],
            },
        ]
    }
    errors = errors_of(raw)
    assert set(errors) == {"rules[1].rules[0].value", "rules[1].rules[1].rules[0].field"}
    deep: dict = {"rules": [r("handicap", "eq", 1)]}
    for _ in range(6):
        deep = {"rules": [deep]}
    assert "groups nest at most 5 deep" in " ".join(errors_of(deep).values())


def test_good_criteria_pass_and_keep_their_shape() -> None:
    raw = {
        "combinator": "AND",
        "not": False,
        "rules": [
            r("membershipTier", "in", ["Gold", "Platinum"]),
            r("activityCount30d", "eq", 0),
            r("membershipExpiry", "between", [{"relative": "now"}, {"relative": "+30 days"}]),
        ],
    }
    group, errors = check_criteria(raw)
    assert errors == [] and group is not None
    assert group.dump() == raw
    everyone, errors = check_criteria({})
    assert errors == [] and everyone is not None and everyone.rules == []
