import pytest
from pydantic import BaseModel

from fairway_ai_gateway.safety.output import (
    OutputInvalid,
    check_tokens,
    extract_json,
    parse,
    plain_text,
    sanitise_html,
)


class Answer(BaseModel):
    n: int


def test_json_is_found_in_fences_and_prose_and_malformed_json_is_refused() -> None:
    assert extract_json('```json\n{"n": 1}\n```') == {"n": 1}
    assert extract_json('Here you go: {"n": 2} hope it helps') == {"n": 2}
    for bad in ["no json at all", '{"n": 1', "{'n': 1}"]:
        with pytest.raises(OutputInvalid):
            extract_json(bad)
    with pytest.raises(OutputInvalid, match="schema"):
        parse(Answer, '{"n": "many"}')


def test_html_is_sanitised_with_nh3() -> None:
    clean, changed = sanitise_html(
        '<p onclick="steal()">Hi {{firstName}}</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><a href="https://club.example">Book</a>'
    )
    assert changed
    assert "<script" not in clean and "onclick" not in clean and "javascript:" not in clean
    assert '<a href="https://club.example" rel="noopener noreferrer">Book</a>' in clean
    assert "Hi {{firstName}}" in clean
    assert sanitise_html("<p>Fine <strong>copy</strong></p>") == ("<p>Fine <strong>copy</strong></p>", False)


def test_text_channels_lose_markup() -> None:
    assert plain_text("Tee times & more") == ("Tee times & more", False)
    assert plain_text("Book <b>now</b><script>x()</script> & save") == ("Book now & save", True)


def test_tokens_must_be_allowed() -> None:
    check_tokens("Hi {{firstName}}, {{ clubName }}", {"firstName", "clubName"})
    with pytest.raises(OutputInvalid, match="password"):
        check_tokens("Hi {{firstName}}, your {{password}}", {"firstName"})
