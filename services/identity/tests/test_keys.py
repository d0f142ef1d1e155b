"""Keys of an event: resolution order, confidence, and the reason for each rejection."""

from fairway_identity.keys import CONFIDENCE, ORDER, Key, keys_from_hints


def test_keys_come_in_resolution_order_with_confidence_and_rejections() -> None:
    keys, rejected = keys_from_hints(
        {
            "messagingContactId": "m1",
            "phoneNumber": "082 123 4567",
            "email": " A@X.com",
            "sclMemberId": "0",
            "authUserId": "u1",
            "teetimePlayerId": None,
        },
        "ZA",
        blocked={"authUserId:u1"},
    )
    assert keys == [
        Key("email", "a@x.com"),
        Key("phoneNumber", "+27821234567"),
        Key("messagingContactId", "m1"),
    ]
    assert [(r.type, r.reason) for r in rejected] == [
        ("authUserId", "blocked value"),
        ("sclMemberId", "placeholder id"),
    ]
    assert ORDER == (
        "authUserId",
        "email",
        "phoneNumber",
        "sclMemberId",
        "teetimePlayerId",
        "messagingContactId",
    )
    assert CONFIDENCE == {
        "authUserId": 100,
        "email": 95,
        "phoneNumber": 85,
        "sclMemberId": 100,
        "teetimePlayerId": 100,
        "messagingContactId": 100,
    }
