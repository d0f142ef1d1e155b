import pytest

from fairway_ai_gateway.privacy.scrub import Scrubber, is_sa_id, luhn_ok


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber("ZA")


@pytest.mark.parametrize(
    "number, valid",
    [
        ("8001015009087", True),  # 1 Jan 1980, Luhn ok
        ("0002295009084", True),  # 29 Feb 2000: a leap day that exists
        ("8001015009088", False),  # bad check digit
        ("8013015009082", False),  # month 13 (Luhn ok)
        ("0102295009082", False),  # 29 Feb 2001 does not exist (Luhn ok)
        ("800101500908", False),  # 12 digits
    ],
)
def test_sa_id_needs_a_real_date_and_a_luhn_check_digit(number: str, valid: bool) -> None:
    assert is_sa_id(number) is valid


def test_valid_sa_ids_are_redacted_and_invalid_ones_are_left(scrubber: Scrubber) -> None:
    s = scrubber.scrub("IDs 8001015009087, 800101 5009 087 and 8001015009088 (a booking ref)")
    assert s.text == "IDs [ID_NUMBER], [ID_NUMBER] and 8001015009088 (a booking ref)"
    assert s.redactions == {"idNumber": 2}


@pytest.mark.parametrize(
    "text",
    [
        "call 082 555 1234 today",  # local mobile
        "call 0825551234 today",
        "call (011) 555-1234 today",  # local landline
        "call +27 82 555 1234 today",  # international, South Africa
        "call +44 20 7946 0958 today",  # international, United Kingdom
        "call +1 650-253-0000 today",  # international, United States
    ],
)
def test_local_and_international_phone_numbers_are_redacted(scrubber: Scrubber, text: str) -> None:
    s = scrubber.scrub(text)
    assert s.text == "call [PHONE] today"
    assert s.redactions == {"phoneNumber": 1}


def test_numbers_that_are_not_phones_stay(scrubber: Scrubber) -> None:
    for text in [
        "Gold members who haven't played in 30 days",
        "handicap 18 or more, season 2024",
        "spent over 100000 cents",
        "between 12 and 18",
    ]:
        assert scrubber.scrub(text).text == text


def test_cards_need_luhn_and_emails_go(scrubber: Scrubber) -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    s = scrubber.scrub("card 4111 1111 1111 1111, not 4111 1111 1111 1112; mail thandi.n+golf@club.co.za")
    assert s.text == "card [CARD_NUMBER], not 4111 1111 1111 1112; mail [EMAIL]"


def test_names_of_the_profile_become_placeholders(scrubber: Scrubber) -> None:
    s = scrubber.scrub(
        "Remind Thandi Nkosi (THANDI's member no M-1001) about 14 Oak Lane",
        names={"firstName": "Thandi", "lastName": "Nkosi", "memberNumber": "M-1001"},
        exact={"address": "14 Oak Lane"},
    )
    assert (
        s.text
        == "Remind {{firstName}} {{lastName}} ({{firstName}}'s member no {{memberNumber}}) about [ADDRESS]"
    )
    # a name inside another word is not the name
    assert scrubber.scrub("Thandiwe", names={"firstName": "Thandi"}).text == "Thandiwe"
