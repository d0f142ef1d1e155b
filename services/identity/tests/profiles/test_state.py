"""The survivorship rule and the consent mirror, as pure folds."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations

from fairway_events.contracts.upstream import (
    ContactPreferenceData,
    HandicapData,
    MemberData,
    PaymentData,
    PlayerData,
    PurchaseData,
)
from fairway_identity.profiles.state import ProfileState, apply_staff, apply_upstream, diff, stamp

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(minutes: int) -> str:
    return stamp(T0 + timedelta(minutes=minutes))


def test_scl_name_beats_teetime_whatever_the_order_and_staff_beats_both() -> None:
    events = [
        ("scl.member.created", MemberData(firstName="Jonathan", homeClub="Royal"), at(0), "e1"),
        ("teetime.player.created", PlayerData(firstName="Jon", handicap=12.4, homeClub="Links"), at(5), "e2"),
    ]
    results = []
    for order in permutations(events):
        s = ProfileState()
        for t, p, when, eid in order:
            apply_upstream(s, t, p, when, eid, "ZAR")
        results.append(s.attributes())
    assert results[0] == results[1]
    assert results[0]["firstName"] == "Jonathan" and results[0]["homeClub"] == "Royal"
    assert results[0]["handicap"] == 12.4  # only TeeTime knows handicaps

    s = ProfileState()
    for t, p, when, eid in events:
        apply_upstream(s, t, p, when, eid, "ZAR")
    apply_staff(s, {"firstName": "John"}, at(10), "staff-1")
    assert s.attributes()["firstName"] == "John"
    assert s.attribute_sources()["firstName"] == {"source": "staff", "at": at(10), "eventId": "staff-1"}
    apply_upstream(s, "scl.member.updated", MemberData(firstName="Jonathan"), at(20), "e3", "ZAR")
    assert s.attributes()["firstName"] == "John"  # a staff correction sticks
    apply_staff(s, {"firstName": None}, at(30), "staff-2")
    assert s.attributes()["firstName"] == "Jonathan"  # withdrawn: upstream shows again


def test_newest_observation_of_a_source_wins_even_when_it_arrives_first() -> None:
    s = ProfileState()
    apply_upstream(s, "teetime.handicap.updated", HandicapData(handicap=9.1), at(10), "late", "ZAR")
    apply_upstream(s, "teetime.handicap.updated", HandicapData(handicap=14.0), at(1), "early", "ZAR")
    assert s.attributes()["handicap"] == 9.1
    assert s.attribute_sources()["handicap"]["at"] == at(10)


def test_membership_lifecycle_and_lifetime_value() -> None:
    from fairway_events.contracts.upstream import MembershipCancelledData, MembershipRenewedData

    s = ProfileState()
    apply_upstream(
        s,
        "scl.member.created",
        MemberData(membershipTier="Gold", membershipStatus="ACTIVE"),
        at(0),
        "a",
        "ZAR",
    )
    apply_upstream(s, "scl.membership.cancelled", MembershipCancelledData(reason="moved"), at(5), "b", "ZAR")
    assert s.attributes()["membershipStatus"] == "CANCELLED"
    apply_upstream(
        s,
        "scl.membership.renewed",
        MembershipRenewedData(membershipExpiry="2026-12-31", membershipTier="Platinum"),
        at(9),
        "c",
        "ZAR",
    )
    a = s.attributes()
    assert (a["membershipStatus"], a["membershipTier"], a["membershipExpiry"]) == (
        "ACTIVE",
        "Platinum",
        "2026-12-31",
    )
    assert a["lifetimeValue"] is None
    apply_upstream(
        s, "scl.payment.received", PaymentData(paymentId="p", amount=Decimal("1250.505")), at(10), "d", "ZAR"
    )
    apply_upstream(
        s,
        "teetime.purchase.completed",
        PurchaseData(purchaseId="q", amount=Decimal("80")),
        at(11),
        "e",
        "ZAR",
    )
    apply_upstream(
        s,
        "teetime.purchase.completed",
        PurchaseData(purchaseId="r", amount=Decimal("10"), currency="USD"),
        at(12),
        "f",
        "ZAR",
    )
    assert s.attributes()["lifetimeValue"] == 125051 + 8000  # cents; other currencies are not summed
    assert s.lifecycle_stage() == "CUSTOMER"


def test_consent_only_from_contact_preferences_with_the_time_of_each_change() -> None:
    from fairway_events.contracts.upstream import UnsubscribedData

    s = ProfileState()
    apply_upstream(s, "messaging.unsubscribed", UnsubscribedData(channel="ALL"), at(0), "u", "ZAR")
    assert s.consent_values()["emailOptIn"] is None  # Messaging's flags come from contactPreference only
    apply_upstream(
        s,
        "contactPreference.updated",
        ContactPreferenceData(emailOptIn=True, smsOptIn=False),
        at(1),
        "c1",
        "ZAR",
    )
    apply_upstream(
        s, "contactPreference.updated", ContactPreferenceData(emailOptIn=False), at(3), "c2", "ZAR"
    )
    apply_upstream(
        s, "contactPreference.updated", ContactPreferenceData(emailOptIn=True), at(2), "stale", "ZAR"
    )
    assert s.consent_values() == {
        "emailOptIn": False,
        "smsOptIn": False,
        "pushOptIn": None,
        "whatsappOptIn": None,
        "aiMarketingConsent": None,
        "doNotProfile": None,
    }
    assert s.consent_times() == {"emailOptIn": at(3), "smsOptIn": at(1)}


def test_merge_takes_the_more_restrictive_consent_and_unions_tags() -> None:
    winner, loser = ProfileState(), ProfileState()
    apply_upstream(
        winner,
        "contactPreference.updated",
        ContactPreferenceData(emailOptIn=True, smsOptIn=True, doNotProfile=False),
        at(9),
        "w",
        "ZAR",
    )
    apply_upstream(
        loser,
        "contactPreference.updated",
        ContactPreferenceData(emailOptIn=False, pushOptIn=True, doNotProfile=True),
        at(1),
        "l",
        "ZAR",
    )
    apply_staff(winner, {"tags": ["vip"]}, at(0), "t1")
    apply_staff(loser, {"tags": ["junior"]}, at(0), "t2")
    winner.join(loser)
    c = winner.consent_values()
    assert c["emailOptIn"] is False and c["doNotProfile"] is True  # the loser's restriction wins
    assert c["smsOptIn"] is True  # only the winner said anything
    assert c["pushOptIn"] is None  # an opt-in never moves from the loser onto the winner
    assert winner.tag_list() == ["junior", "vip"]


def test_view_diff_names_changed_fields_only() -> None:
    s = ProfileState()
    before = s.view()
    apply_upstream(s, "teetime.player.created", PlayerData(firstName="Ann", handicap=3), at(0), "e", "ZAR")
    apply_upstream(s, "contactPreference.updated", ContactPreferenceData(smsOptIn=True), at(0), "f", "ZAR")
    changes, consent = diff(before, s.view())
    assert changes == {"firstName": "Ann", "handicap": 3.0}
    assert consent == ["smsOptIn"]
    assert ProfileState.loads(s.dumps(), {"email": ["a@x.com"]}).view() == s.view()


def test_each_event_type_changes_only_the_fields_it_declares() -> None:
    """The consumer diffs only TOUCHES[event type]; a change outside them would go unpublished."""
    from fairway_events.contracts.upstream import (
        BookingData,
        MembershipCancelledData,
        MembershipRenewedData,
        RoundData,
    )
    from fairway_identity.profiles.state import INERT, TOUCHES

    samples = {
        "scl.member.created": MemberData(
            firstName="A",
            lastName="B",
            dateOfBirth="1980-01-01",
            membershipNumber="9",
            membershipTier="Gold",
            membershipStatus="ACTIVE",
            memberSince="2020-01-01",
            membershipExpiry="2026-01-01",
            homeClub="R",
        ),
        "scl.member.updated": MemberData(firstName="C", membershipTier="Silver", homeClub="S"),
        "scl.membership.renewed": MembershipRenewedData(
            membershipExpiry="2027-01-01", membershipTier="Platinum"
        ),
        "scl.membership.cancelled": MembershipCancelledData(),
        "scl.payment.received": PaymentData(paymentId="p", amount=Decimal("10")),
        "teetime.player.created": PlayerData(firstName="D", lastName="E", handicap=5, homeClub="T"),
        "teetime.handicap.updated": HandicapData(handicap=7),
        "teetime.booking.created": BookingData(bookingId="b"),
        "teetime.round.played": RoundData(roundId="r"),
        "teetime.purchase.completed": PurchaseData(purchaseId="q", amount=Decimal("5")),
        "contactPreference.updated": ContactPreferenceData(
            emailOptIn=True,
            smsOptIn=False,
            pushOptIn=True,
            whatsappOptIn=False,
            aiMarketingConsent=True,
            doNotProfile=False,
        ),
    }
    assert set(samples) == set(TOUCHES)
    from fairway_identity.resolution.handlers import PERSON_EVENTS

    assert PERSON_EVENTS == set(TOUCHES) | INERT  # every person event is either inert or declared
    for event_type, payload in samples.items():
        s = ProfileState()
        full_before = s.view()
        apply_upstream(s, event_type, payload, at(1), "e", "ZAR")
        changed = {k for k, v in s.view().items() if full_before[k] != v}
        assert changed and changed <= set(TOUCHES[event_type]), event_type
