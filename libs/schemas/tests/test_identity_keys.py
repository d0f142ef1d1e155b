"""Every normalisation and junk case: keys are compared only in canonical form, by every service."""

import pytest

from fairway_schemas.identity_keys import canonical, normalize_email, normalize_id, normalize_phone


@pytest.mark.parametrize("raw", ["a@x.com", " a@x.com", "A@X.COM", "\tA@x.Com  "])
def test_email_is_trimmed_and_lower_cased(raw: str) -> None:
    assert normalize_email(raw) == ("a@x.com", None)


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not-an-email", "not an email address"),
        ("a@b", "not an email address"),
        ("two@@x.com", "not an email address"),
        ("test@gmail.com", "placeholder email"),
        ("noemail@club.co.za", "placeholder email"),
        ("NO-REPLY@club.co.za", "placeholder email"),
        ("someone@example.com", "placeholder email"),
        ("x@test.com", "placeholder email"),
        ("member@foo.invalid", "placeholder email"),
    ],
)
def test_junk_emails_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    assert normalize_email(raw) == (None, reason)


@pytest.mark.parametrize(
    "raw",
    [
        "082 123 4567",
        "+27 82 123 4567",
        "27821234567",
        "0821234567",
        "(082) 123-4567",
        "0027 82 123 4567",
        "+27821234567",
    ],
)
def test_south_african_numbers_are_one_e164_number(raw: str) -> None:
    assert normalize_phone(raw, "ZA") == ("+27821234567", None)


def test_phone_region_is_the_tenants() -> None:
    assert normalize_phone("020 7946 0958", "GB") == ("+442079460958", None)
    assert normalize_phone("020 7946 0958", "ZA")[0] is None  # not a ZA number
    # A number with its country code reads the same in every region.
    assert normalize_phone("+44 20 7946 0958", "ZA") == ("+442079460958", None)


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "empty"),
        ("  ", "empty"),
        ("000 000 0000", "all-zero phone"),
        ("0000000000", "all-zero phone"),
        ("+27 00 000 0000", "all-zero phone"),
        ("0111111111", "placeholder phone"),
        ("12", "not a valid phone number (read in region ZA)"),
        ("call me", "empty"),
    ],
)
def test_junk_phones_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    assert normalize_phone(raw, "ZA") == (None, reason)


@pytest.mark.parametrize("raw,expected", [(" 123 ", "123"), ("tp-9", "tp-9"), ("AbC", "AbC")])
def test_system_ids_are_trimmed_not_case_folded(raw: str, expected: str) -> None:
    assert normalize_id(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["", "0", "000", "null", "NULL", "undefined", "n/a", "-", "None"])
def test_placeholder_ids_are_rejected(raw: str) -> None:
    assert normalize_id(raw)[0] is None


def test_canonical_form_is_none_for_junk_and_non_values() -> None:
    assert canonical("phoneNumber", "082 123 4567") == "+27821234567"
    assert canonical("email", " A@X.com ") == "a@x.com"
    assert canonical("sclMemberId", 12345) == "12345"  # SCL sends numbers
    assert canonical("email", "test@gmail.com") is None
    assert canonical("phoneNumber", None) is None
    assert canonical("authUserId", True) is None
