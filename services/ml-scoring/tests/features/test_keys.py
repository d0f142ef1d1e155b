"""Events find their profile only if ml-scoring reads identity keys exactly as identity does."""

import pytest

from fairway_ml_scoring.features.keys import keys_from_hints, keys_from_lists


@pytest.mark.parametrize("raw", ["082 123 4567", "+27 82 123 4567", "27821234567", "0027 82 123 4567"])
def test_phones_read_as_identity_reads_them(raw: str) -> None:
    assert keys_from_hints({"phoneNumber": raw}) == ["phoneNumber:+27821234567"]


def test_junk_is_no_key_and_order_is_identitys() -> None:
    # A placeholder number once read as a key here (a looser reading than identity's): never a profile's key.
    hints = {"messagingContactId": "m1", "email": " A@X.com", "phoneNumber": "011 111 1111", "sclMemberId": 7}
    assert keys_from_hints(hints) == ["email:a@x.com", "sclMemberId:7", "messagingContactId:m1"]
    assert keys_from_lists({"email": ["a@x.com", "A@x.com "], "phoneNumber": ["082 123 4567"]}) == [
        "email:a@x.com",
        "phoneNumber:+27821234567",
    ]
