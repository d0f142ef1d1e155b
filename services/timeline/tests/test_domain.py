"""Pure rules: key normalisation and priority, what each upstream event becomes, cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fairway_chassis import Unprocessable
from fairway_events import registry
from fairway_events.contracts.upstream import NO_PERSON_EVENTS, UPSTREAM_TOPICS
from fairway_timeline.activities.catalogue import KINDS, UPSTREAM, ActivityType, Category, describe
from fairway_timeline.activities.service import TIMELINE_CURSOR, parse_bound, parse_list
from fairway_timeline.identity_map.keys import keys_from_hints, keys_from_lists, normalise
from fairway_timeline.settings import Settings


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("082 123 4567", "ZA", "+27821234567"),
        ("+27 82 123 4567", "ZA", "+27821234567"),
        ("27821234567", "ZA", "+27821234567"),
        ("(082) 123-4567", "ZA", "+27821234567"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "ZA", "+442079460958"),
        ("000 000 0000", "ZA", None),
        ("call me", "ZA", None),
        ("", "ZA", None),
        ("12", "ZA", None),
    ],
)
def test_phone_numbers_normalise_to_e164_with_the_tenant_region(
    raw: str, region: str, expected: str | None
) -> None:
    assert normalise("phoneNumber", raw, region) == expected


def test_other_keys_normalise() -> None:
    assert normalise("email", "  Ann.Smith@Club.COM ") == "ann.smith@club.com"
    assert normalise("email", "not-an-email") is None
    assert normalise("sclMemberId", 1001) == "1001"  # SCL sends numbers
    assert normalise("authUserId", "  ") is None and normalise("authUserId", None) is None


def test_hints_are_tried_in_identity_priority_order() -> None:
    keys = keys_from_hints(
        {
            "messagingContactId": "mc",
            "phoneNumber": "0821234567",
            "teetimePlayerId": "tt",
            "sclMemberId": "9",
            "email": "A@x.com",
            "authUserId": "u",
        },
        "ZA",
    )
    assert [k.key_type for k in keys] == [
        "authUserId",
        "email",
        "phoneNumber",
        "sclMemberId",
        "teetimePlayerId",
        "messagingContactId",
    ]
    assert [k.rank for k in keys] == [0, 1, 2, 3, 4, 5]
    snapshot = keys_from_lists(
        {"email": ["b@x.com", "A@X.com", "a@x.com"], "phoneNumber": ["+27821234567"]}, "ZA"
    )
    assert [(k.key_type, k.value) for k in snapshot] == [
        ("email", "a@x.com"),
        ("email", "b@x.com"),
        ("phoneNumber", "+27821234567"),
    ]


def test_every_person_event_upstream_sends_becomes_an_activity() -> None:
    upstream_types = set().union(*(registry.types_on(t) for t in UPSTREAM_TOPICS))
    assert upstream_types - set(UPSTREAM) == NO_PERSON_EVENTS
    assert set(KINDS) == set(ActivityType)
    assert {k.category for k in KINDS.values()} == set(Category)


def _payload(event_type: str, **data: object):  # noqa: ANN202
    model = registry.latest(event_type).model
    return model.model_validate({"identity": {"email": "a@x.com"}, "payload": data}).payload


@pytest.mark.parametrize(
    ("event_type", "data", "type_", "title", "counts"),
    [
        (
            "teetime.booking.created",
            {"bookingId": "b", "teeTime": "2025-03-08T07:30:00Z"},
            "BOOKING_CREATED",
            "Tee time booked for 2025-03-08 07:30",
            True,
        ),
        (
            "teetime.handicap.updated",
            {"handicap": 11.8, "previousHandicap": 12.4},
            "HANDICAP_UPDATED",
            "Handicap updated to 11.8 from 12.4",
            False,
        ),
        (
            "scl.membership.cancelled",
            {"reason": "Moving away", "effectiveDate": "2025-06-30"},
            "MEMBERSHIP_CANCELLED",
            "Membership cancelled from 2025-06-30 (Moving away)",
            True,
        ),
        (
            "teetime.purchase.completed",
            {"purchaseId": "p", "amount": Decimal("1250"), "category": "Balls"},
            "PURCHASE",
            "Purchase: ZAR 1,250.00 (Balls)",
            True,
        ),
        (
            "messaging.email.sent",
            {"messageId": "m", "subject": "Club news"},
            "EMAIL_SENT",
            "Email sent “Club news”",
            False,
        ),
        (
            "messaging.email.bounced",
            {"messageId": "m", "bounceType": "HARD"},
            "EMAIL_BOUNCED",
            "Email bounced (hard)",
            False,
        ),
        ("messaging.unsubscribed", {"channel": "SMS"}, "UNSUBSCRIBED", "Unsubscribed (sms)", False),
        (
            "contactPreference.updated",
            {"emailOptIn": False, "smsOptIn": True},
            "CONSENT_CHANGED",
            "Contact preferences changed: email off, SMS on",
            False,
        ),
    ],
)
def test_activity_types_titles_and_what_counts(event_type, data, type_, title, counts) -> None:  # noqa: ANN001
    described = describe(event_type, _payload(event_type, **data))
    assert described is not None
    assert (described.kind.type, described.title, described.kind.counts) == (type_, title, counts)


def test_payload_keeps_no_names_or_birth_dates() -> None:
    described = describe(
        "scl.member.created",
        _payload(
            "scl.member.created",
            firstName="Ann",
            lastName="Lee",
            dateOfBirth=date(1980, 1, 1),
            membershipTier="Gold",
        ),
    )
    assert described is not None and described.payload == {"membershipTier": "Gold"}
    assert described.title == "Member record created (Gold)"


def test_cursors_round_trip_and_reject_junk() -> None:
    at, activity_id = datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC), uuid.uuid4()
    assert TIMELINE_CURSOR.decode(TIMELINE_CURSOR.encode((at, activity_id))) == (at, activity_id)
    for junk in ("abc", "W10", TIMELINE_CURSOR.encode((at, activity_id))[:-3]):
        with pytest.raises(Unprocessable):
            TIMELINE_CURSOR.decode(junk)


def test_query_parsing() -> None:
    assert parse_list(["booking, golf", "BILLING"], Category, "categories") == ["BOOKING", "GOLF", "BILLING"]
    with pytest.raises(Unprocessable):
        parse_list(["BOOKING,nope"], Category, "categories")
    assert parse_bound("2025-03-01", "endDate", end=True) == datetime(2025, 3, 2, tzinfo=UTC)
    assert parse_bound("2025-03-01", "startDate", end=False) == datetime(2025, 3, 1, tzinfo=UTC)
    assert parse_bound("2025-03-01T10:00:00+02:00", "startDate", end=False) == datetime(
        2025, 3, 1, 8, tzinfo=UTC
    )


def test_settings_refuse_unknown_phone_regions() -> None:
    with pytest.raises(ValueError, match="phone region"):
        Settings(jwt_secret="x" * 40, default_phone_region="XX")
    assert Settings(jwt_secret="x" * 40, phone_regions={"club-uk": "gb"}).phone_region("club-uk") == "GB"
